/// SplitMix64: a small deterministic random generator, the same on every platform for a seed.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    /// Starts the stream at `seed`.
    public init(seed: UInt64) { state = seed }

    /// Derives an independent stream for a labelled sub-task (e.g. `"passkey/4096/3"`).
    public init(seed: UInt64, label: String) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in label.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        state = seed ^ h
        _ = next()
    }

    /// Next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A number of exactly `digits` decimal digits (first digit non-zero).
    public mutating func digits(_ digits: Int) -> String {
        precondition(digits >= 1 && digits <= 18)
        var low = 1
        for _ in 1..<digits { low *= 10 }
        return String(Int.random(in: low..<(low * 10), using: &self))
    }
}
