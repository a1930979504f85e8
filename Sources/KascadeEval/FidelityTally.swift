import Foundation

/// Running sums of next-token fidelity of a method against dense over teacher-forced positions.
public struct FidelityTally: Codable, Hashable, Sendable {
    /// Positions compared.
    public var positions: Int = 0
    /// Positions where the method's top-1 token equals dense's.
    public var agreements: Int = 0
    /// Sum of KL(dense || method) in nats.
    public var klSum: Double = 0
    /// Sum of the dense model's negative log-likelihood of the true next tokens, nats.
    public var nllDense: Double = 0
    /// The same for the method.
    public var nllMethod: Double = 0

    /// An empty tally.
    public init() {}

    /// Fraction of positions with the same top-1 token (1 when empty).
    public var top1Agreement: Double { positions > 0 ? Double(agreements) / Double(positions) : 1 }
    /// Mean KL(dense || method), nats.
    public var meanKL: Double { positions > 0 ? klSum / Double(positions) : 0 }
    /// Dense perplexity `exp(mean NLL)`.
    public var perplexityDense: Double { positions > 0 ? exp(nllDense / Double(positions)) : 1 }
    /// Method perplexity.
    public var perplexityMethod: Double { positions > 0 ? exp(nllMethod / Double(positions)) : 1 }
    /// Relative perplexity change, `ppl_method / ppl_dense - 1`.
    public var perplexityChange: Double { perplexityMethod / perplexityDense - 1 }

    /// Adds another tally's sums.
    public mutating func merge(_ o: FidelityTally) {
        positions += o.positions
        agreements += o.agreements
        klSum += o.klSum
        nllDense += o.nllDense
        nllMethod += o.nllMethod
    }
}
