/// Key budget of a sparse method: `k = min(max(kMin, ceil(fraction * N)), N)` (SPEC 2).
public struct Budget: Sendable, Hashable, Codable {
    /// Fraction of the context to read, in (0, 1].
    public let fraction: Double
    /// Floor on the number of keys.
    public let kMin: Int

    /// Defaults `fraction = 0.10`, `kMin = 128`; throws for a fraction outside (0, 1] or a negative floor.
    public init(fraction: Double = 0.10, kMin: Int = 128) throws(AttentionError) {
        guard fraction.isFinite, fraction > 0, fraction <= 1 else { throw .badBudget(fraction) }
        guard kMin >= 0 else { throw .badArgument("kMin must be >= 0, got \(kMin)") }
        self.fraction = fraction
        self.kMin = kMin
    }

    /// Keys to keep out of `n` candidates.
    @inlinable public func keys(outOf n: Int) -> Int {
        guard n > 0 else { return 0 }
        let want = Int((fraction * Double(n)).rounded(.up))
        return min(max(kMin, want), n)
    }

    /// The whole context: every method must equal dense under this budget.
    public static let full = try! Budget(fraction: 1, kMin: 0)
}
