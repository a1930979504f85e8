import KascadeCore
import Testing
@testable import KascadeModel

/// Dense attention that also checks and counts the calls the session makes.
final class RecordingPolicy: AttentionPolicy {
    let name = "recording"
    let inner = DenseAttention()
    var calls: [(layer: Int, queries: Int, length: Int)] = []
    var stats: AttentionStats { inner.stats }
    func reset() { calls = []; inner.reset() }
    func attend(layer: Int, queries: UnsafePointer<Float>, queryCount: Int, kv: KVCacheView,
                output: UnsafeMutablePointer<Float>) throws {
        calls.append((layer, queryCount, kv.length))
        try inner.attend(layer: layer, queries: queries, queryCount: queryCount, kv: kv, output: output)
    }
}

/// Counts observer calls and checks the residual and attention output are finite and non-zero.
final class CountingObserver: ResidualObserver {
    var calls: [Int] = []
    var nonZero = true
    func observe(layer: Int, residual: UnsafePointer<Float>, attentionOutput: UnsafePointer<Float>, tokenCount: Int, width: Int) {
        calls.append(layer)
        var r = 0.0, a = 0.0
        for i in 0..<(tokenCount * width) { r += Double(abs(residual[i])); a += Double(abs(attentionOutput[i])) }
        if !(r > 0 && a > 0 && r.isFinite && a.isFinite) { nonZero = false }
    }
}

@Suite("Inference session")
struct InferenceSessionTests {
    @Test("prefill in chunks, all-logits prefill and token-by-token decoding agree",
          arguments: [GGMLType.q4_1, .q8_0, .f16], [false, true])
    func chunkingIsInvisible(type: GGMLType, tied: Bool) throws {
        let model = try TinyLlama.model(weightType: type, tied: tied)
        var rng = TestRandom(seed: 5)
        let tokens = (0..<75).map { _ in Int32.random(in: 0..<Int32(TinyLlama.vocab), using: &rng) }
        let vocab = TinyLlama.vocab
        let a = try InferenceSession(model: model, policy: DenseAttention(), maxContext: 128, chunkSize: 32)
        let last = try a.prefill(tokens)
        let b = try InferenceSession(model: model, policy: DenseAttention(), maxContext: 128, chunkSize: 64)
        let all = try b.prefillAllLogits(tokens)
        let c = try InferenceSession(model: model, policy: DenseAttention(), maxContext: 128, chunkSize: 32)
        var stepped: [Float] = []
        for t in tokens { stepped += try c.step(t) }
        #expect(a.position == 75 && b.position == 75 && c.position == 75)
        let scale = all.map(abs).max()!
        #expect(zip(all, stepped).map { abs($0 - $1) }.max()! <= 1e-4 * scale)
        #expect(zip(last, all.suffix(vocab)).map { abs($0 - $1) }.max()! <= 1e-4 * scale)
        // Reset starts over: the same prompt gives the same logits.
        a.reset()
        #expect(a.position == 0 && a.attentionSeconds == 0)
        #expect(try a.prefill(tokens) == last)
    }

    @Test("every layer's attention goes through the policy and the observer sees it")
    func policyAndObserver() throws {
        let model = try TinyLlama.model()
        let policy = RecordingPolicy()
        let session = try InferenceSession(model: model, policy: policy, maxContext: 100, chunkSize: 32)
        let observer = CountingObserver()
        session.observer = observer
        _ = try session.prefill((0..<40).map { Int32($0 % 50) })
        _ = try session.step(3)
        let L = TinyLlama.layers
        #expect(policy.calls.map(\.layer) == Array(0..<L) + Array(0..<L) + Array(0..<L))
        #expect(policy.calls.map(\.queries) == [Int](repeating: 32, count: L) + [Int](repeating: 8, count: L) + [Int](repeating: 1, count: L))
        #expect(policy.calls.map(\.length) == [Int](repeating: 32, count: L) + [Int](repeating: 40, count: L) + [Int](repeating: 41, count: L))
        #expect(observer.calls == policy.calls.map(\.layer))
        #expect(observer.nonZero)
        #expect(session.attentionSeconds > 0)
        session.reset()
        #expect(policy.calls.isEmpty)
    }

    @Test("bad input gives one-line typed errors")
    func badInput() throws {
        func modelError(_ body: () throws -> Void) -> ModelError? {
            do { try body(); return nil } catch let e as ModelError { return e } catch { return nil }
        }
        let model = try TinyLlama.model()
        let session = try InferenceSession(model: model, policy: DenseAttention(), maxContext: 40, chunkSize: 32)
        #expect(modelError { _ = try session.prefill([]) } == .emptyPrompt)
        #expect(modelError { _ = try session.prefill([Int32](repeating: 1, count: 41)) } == .contextOverflow(needed: 41, capacity: 40))
        #expect(modelError { _ = try session.prefill([1, 50]) } == .badToken(id: 50, vocabulary: 50))
        #expect(modelError { _ = try session.step(-1) } == .badToken(id: -1, vocabulary: 50))
        #expect(session.position == 0)
        _ = try session.prefill([Int32](repeating: 1, count: 40))
        #expect(modelError { _ = try session.step(1) } == .contextOverflow(needed: 41, capacity: 40))
        #expect(modelError { _ = try InferenceSession(model: model, policy: DenseAttention(), maxContext: 257) } == .contextTooLong(requested: 257, model: 256))
        #expect(modelError { _ = try InferenceSession(model: model, policy: DenseAttention(), chunkSize: 48) } == .badHyperparameter(what: "chunkSize", value: "48"))

        #expect(modelError { _ = try LlamaModel(gguf: GGUFFile(bytes: TinyLlama.bytes(arch: "gpt2"))) } == .unsupportedArchitecture("gpt2"))
        #expect(modelError { _ = try LlamaModel(gguf: GGUFFile(bytes: TinyLlama.bytes(drop: "blk.1.ffn_up.weight"))) } == .missingTensor("blk.1.ffn_up.weight"))
        #expect(modelError { _ = try LlamaModel(gguf: GGUFFile(bytes: TinyLlama.bytes(weightType: .q5_0))) } == .unsupportedTensorType(tensor: "blk.0.attn_q.weight", type: "Q5_0"))
        #expect(ModelError.missingTensor("x").description.split(separator: "\n").count == 1)

        let truncated = Array(TinyLlama.bytes().dropLast(100))
        #expect(throws: GGUFError.self) { _ = try LlamaModel(gguf: GGUFFile(bytes: truncated)) }
    }
}
