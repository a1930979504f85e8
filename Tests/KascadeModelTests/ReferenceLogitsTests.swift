import Foundation
import KascadeCore
import Testing
@testable import KascadeModel

/// The forward pass against the NumPy reference of scripts/reference_logits.py.
@Suite("Forward pass against the NumPy reference", .enabled(if: DefaultModel.available))
struct ReferenceLogitsTests {
    static let model: LlamaModel? = try? LlamaModel(path: DefaultModel.path)

    /// Largest |ours - reference| over the reference's top-20, relative to the largest |reference|.
    static func relativeError(_ logits: UnsafeBufferPointer<Float>, _ top: [(Int32, Float)]) -> Float {
        let scale = top.map { abs($0.1) }.max()!
        return top.map { abs(logits[Int($0.0)] - $0.1) }.max()! / scale
    }

    static func argmax(_ l: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        for i in 1..<l.count where l[i] > l[best] { best = i }
        return Int32(best)
    }

    @Test("prefill in chunks and decode steps give the reference logits and greedy tokens", arguments: [32, 64])
    func prefillAndDecode(chunk: Int) throws {
        let model = try #require(Self.model)
        let session = try InferenceSession(model: model, policy: DenseAttention(), maxContext: 128, chunkSize: chunk)
        let prompt = ReferenceLogitsFixture.prompt
        var logits = try session.prefill(prompt)
        var generated: [Int32] = []
        for (pos, argmax, top) in ReferenceLogitsFixture.expected where pos >= prompt.count - 1 {
            // Decode greedily until `logits` belong to position `pos`.
            while session.position <= pos {
                let next = logits.withUnsafeBufferPointer { Self.argmax($0) }
                generated.append(next)
                logits = try session.step(next)
            }
            let err = logits.withUnsafeBufferPointer { Self.relativeError($0, top) }
            #expect(err < 1e-3, "relative error \(err) at position \(pos)")
            #expect(logits.withUnsafeBufferPointer { Self.argmax($0) } == argmax)
        }
        #expect(generated.count == ReferenceLogitsFixture.greedy.count)
        #expect(generated == ReferenceLogitsFixture.greedy)
    }

    @Test("logits of every position match the reference where it was recorded")
    func allPositions() throws {
        let model = try #require(Self.model)
        let session = try InferenceSession(model: model, policy: DenseAttention(), maxContext: 64, chunkSize: 32)
        let ids = ReferenceLogitsFixture.prompt + ReferenceLogitsFixture.greedy
        let all = try session.prefillAllLogits(ids)
        let vocab = model.config.vocabularySize
        #expect(all.count == ids.count * vocab)
        for (pos, argmax, top) in ReferenceLogitsFixture.expected {
            all.withUnsafeBufferPointer { a in
                let row = UnsafeBufferPointer(rebasing: a[pos * vocab ..< (pos + 1) * vocab])
                let err = Self.relativeError(row, top)
                #expect(err < 1e-3, "relative error \(err) at position \(pos)")
                #expect(Self.argmax(row) == argmax, "argmax at position \(pos)")
            }
        }
    }
}
