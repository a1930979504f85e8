import KascadeCore
import Testing
@testable import KascadeModel

/// Every attention method at the full budget must generate exactly the dense tokens (greedy).
@Suite("Methods at the full budget", .enabled(if: DefaultModel.available))
struct MethodEquivalenceTests {
    /// Methods under test at `Budget.full`; each entry builds a fresh policy for the default model.
    static let methods: [(String, () throws -> AttentionPolicy)] = [
        ("dense", { DenseAttention() }),
        ("kascade", { KascadeAttention(schedule: try KascadeSchedule.evenlySpaced(layers: 30, kvHeads: 3, anchors: 5, fraction: 1, kMin: 0)) }),
        ("kascade-pooled", { KascadeAttention(schedule: try KascadeSchedule.evenlySpaced(layers: 30, kvHeads: 3, anchors: 5, fraction: 1, kMin: 0), variant: .pooled) }),
        ("quest", { QuestAttention(budget: .full) }),
        ("twilight", { TwilightAttention(budget: .full, baseFraction: 1, topP: 1) }),
        ("vattention", { VAttention(budget: .full) }),
        ("streaming", { StreamingLLMAttention(budget: .full) }),
    ]

    static let model: LlamaModel? = try? LlamaModel(path: DefaultModel.path)

    static func greedy(_ policy: AttentionPolicy, prompt: [Int32], steps: Int) throws -> [Int32] {
        let session = try InferenceSession(model: try #require(model), policy: policy, maxContext: prompt.count + steps, chunkSize: 32)
        var logits = try session.prefill(prompt)
        var out: [Int32] = []
        for _ in 0..<steps {
            let next = logits.withUnsafeBufferPointer { Sampler.argmax($0) }
            out.append(next)
            logits = try session.step(next)
        }
        return out
    }

    @Test("greedy tokens equal dense", arguments: methods.map(\.0))
    func sameTokens(method: String) throws {
        // A prompt of several chunks: the reference prompt repeated with a varying suffix.
        let prompt = Array((0..<3).map { _ in ReferenceLogitsFixture.prompt }.joined()) + [504]
        let dense = try Self.greedy(DenseAttention(), prompt: prompt, steps: 12)
        let policy = try Self.methods.first { $0.0 == method }!.1()
        #expect(try Self.greedy(policy, prompt: prompt, steps: 12) == dense)
        #expect(dense.count == 12)
    }
}
