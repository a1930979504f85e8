import Foundation

/// Next-token fidelity of a method's logits against dense logits: top-1 agreement,
/// KL(dense || method) and the negative log-likelihood of the true next tokens. Pure functions.
public enum FidelityMetrics {
    /// `log softmax(row)` in double precision.
    public static func logSoftmax(_ row: ArraySlice<Float>) -> [Double] {
        let m = Double(row.max() ?? 0)
        var sum = 0.0
        for x in row { sum += exp(Double(x) - m) }
        let lse = m + log(sum)
        return row.map { Double($0) - lse }
    }

    /// Index of the largest logit, lowest index on ties.
    public static func argmax(_ row: ArraySlice<Float>) -> Int {
        var best = row.startIndex
        for i in row.indices where row[i] > row[best] { best = i }
        return best - row.startIndex
    }

    /// KL(p || q) in nats for `p = softmax(dense)`, `q = softmax(method)`; rows of equal length.
    public static func klDivergence(dense: ArraySlice<Float>, method: ArraySlice<Float>) -> Double {
        precondition(dense.count == method.count, "logit rows differ in length")
        let lp = logSoftmax(dense), lq = logSoftmax(method)
        var kl = 0.0
        for i in lp.indices where lp[i] > -700 { kl += exp(lp[i]) * (lp[i] - lq[i]) }
        return max(0, kl)
    }

    /// Tally over `targets.count` positions.
    /// - Parameters:
    ///   - dense: `[P, vocab]` row-major logits of the dense model.
    ///   - method: `[P, vocab]` row-major logits of the method at the same positions.
    ///   - targets: `P` true next tokens.
    public static func tally(dense: [Float], method: [Float], vocab: Int, targets: [Int32]) -> FidelityTally {
        let p = targets.count
        precondition(vocab > 0 && dense.count == p * vocab && method.count == p * vocab, "logits are not [P, vocab]")
        var t = FidelityTally()
        for i in 0..<p {
            let d = dense[(i * vocab)..<((i + 1) * vocab)]
            let m = method[(i * vocab)..<((i + 1) * vocab)]
            let ld = logSoftmax(d), lm = logSoftmax(m)
            var kl = 0.0
            for j in 0..<vocab where ld[j] > -700 { kl += exp(ld[j]) * (ld[j] - lm[j]) }
            t.positions += 1
            if argmax(d) == argmax(m) { t.agreements += 1 }
            t.klSum += max(0, kl)
            let target = Int(targets[i])
            precondition(target >= 0 && target < vocab, "target token \(target) outside the vocabulary")
            t.nllDense -= ld[target]
            t.nllMethod -= lm[target]
        }
        return t
    }
}
