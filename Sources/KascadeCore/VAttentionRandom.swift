/// vAttention's sampling generator: SplitMix64 (Steele, Lea, Flood 2014), small, fast and fully
/// determined by its seed, so one seed always draws the same sample.
public struct VAttentionRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator starting from `seed`.
    public init(seed: UInt64) { state = seed }

    /// A generator for one stream of a seed, named by three integers (vAttention: layer, query head,
    /// context length): the seed and each part are mixed in turn, so distinct streams are independent
    /// and a stream does not depend on the order in which streams are used.
    public init(seed: UInt64, stream a: Int, _ b: Int, _ c: Int) {
        var s = VAttentionRandom.mix(seed)
        s = VAttentionRandom.mix(s ^ (UInt64(bitPattern: Int64(a)) &* 0x9E37_79B9_7F4A_7C15))
        s = VAttentionRandom.mix(s ^ (UInt64(bitPattern: Int64(b)) &* 0x9E37_79B9_7F4A_7C15))
        s = VAttentionRandom.mix(s ^ (UInt64(bitPattern: Int64(c)) &* 0x9E37_79B9_7F4A_7C15))
        state = s
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return VAttentionRandom.mix(state)
    }

    /// A uniform integer in `0 ..< bound` without modulo bias (Lemire's multiply-and-reject).
    public mutating func next(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive, got \(bound)")
        let n = UInt64(bound)
        var m = next().multipliedFullWidth(by: n)
        if m.low < n {
            let floor = (0 &- n) % n
            while m.low < floor { m = next().multipliedFullWidth(by: n) }
        }
        return Int(m.high)
    }

    /// SplitMix64's finaliser.
    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
