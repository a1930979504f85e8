import Foundation
import Testing
import KascadeEval

@Suite("Fidelity metrics")
struct FidelityMetricsTests {
    @Test("identical logits: full agreement, zero KL, no perplexity change", arguments: [3, 17])
    func identical(vocab: Int) {
        var rng = SeededGenerator(seed: UInt64(vocab))
        let logits = (0..<(4 * vocab)).map { _ in Float.random(in: -3...3, using: &rng) }
        let targets: [Int32] = [0, 1, 2, Int32(vocab - 1)]
        let t = FidelityMetrics.tally(dense: logits, method: logits, vocab: vocab, targets: targets)
        #expect(t.positions == 4 && t.agreements == 4)
        #expect(abs(t.meanKL) < 1e-12)
        #expect(abs(t.perplexityChange) < 1e-12)
    }

    @Test("a two-token distribution gives the hand-computed KL, NLL and agreement")
    func handMade() {
        // dense p = (0.8, 0.2), method q = (0.5, 0.5): logits log p, log q.
        let dense: [Float] = [log(0.8), log(0.2)]
        let method: [Float] = [0, 0]
        let t = FidelityMetrics.tally(dense: dense, method: method, vocab: 2, targets: [1])
        let kl = 0.8 * log(0.8 / 0.5) + 0.2 * log(0.2 / 0.5)
        #expect(abs(t.meanKL - kl) < 1e-6)
        #expect(t.agreements == 1)              // the method's tie goes to the lower index, dense's top-1
        #expect(abs(t.nllDense - -log(0.2)) < 1e-6)
        #expect(abs(t.nllMethod - -log(0.5)) < 1e-6)
        #expect(abs(t.perplexityChange - (0.2 / 0.5 - 1)) < 1e-6)
    }

    @Test("top-1 disagreement is counted per position")
    func disagreement() {
        let dense: [Float] = [2, 0, 0, /**/ 0, 3, 0, /**/ 0, 0, 1]
        let method: [Float] = [2, 0, 0, /**/ 0, 0, 3, /**/ 0, 0, 1]
        let t = FidelityMetrics.tally(dense: dense, method: method, vocab: 3, targets: [0, 1, 2])
        #expect(t.agreements == 2)
        #expect(abs(t.top1Agreement - 2.0 / 3.0) < 1e-12)
        #expect(t.meanKL > 0)
    }

    @Test("KL is shift-invariant in the logits and positive for different distributions")
    func klProperties() {
        var rng = SeededGenerator(seed: 1)
        for _ in 0..<5 {
            let a = (0..<32).map { _ in Float.random(in: -4...4, using: &rng) }
            let b = (0..<32).map { _ in Float.random(in: -4...4, using: &rng) }
            let kl = FidelityMetrics.klDivergence(dense: a[...], method: b[...])
            let shifted = FidelityMetrics.klDivergence(dense: a.map { $0 + 5 }[...], method: b.map { $0 - 2 }[...])
            #expect(kl > 0)
            #expect(abs(kl - shifted) < 1e-5)
            // Reference: direct formula with probabilities.
            let pa = a.map { exp(Double($0)) }, pb = b.map { exp(Double($0)) }
            let sa = pa.reduce(0, +), sb = pb.reduce(0, +)
            let ref = zip(pa, pb).reduce(0.0) { $0 + ($1.0 / sa) * log(($1.0 / sa) / ($1.1 / sb)) }
            #expect(abs(kl - ref) < 1e-9)
        }
    }
}
