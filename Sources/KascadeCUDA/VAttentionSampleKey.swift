/// vAttention's counter-based sampler, shared by the GPU kernel (`vatt_key` in decode_peers.cu) and
/// the CPU reference: every position gets a 32-bit key from SplitMix64 (Steele, Lea, Flood 2014) of
/// `(seed, layer, query head, N, position)`; a uniform sample of `b` residual keys without
/// replacement is the `b` smallest keys (lower position first on equal keys), so a smaller sample
/// (the pilot) is always part of a larger one.
public enum VAttentionSampleKey {
    static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// SplitMix64's finaliser.
    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The stream of one (seed, layer, query head, context length).
    public static func stream(seed: UInt64, layer: Int, head: Int, length: Int) -> UInt64 {
        var s = mix(seed)
        s = mix(s ^ (UInt64(bitPattern: Int64(layer)) &* golden))
        s = mix(s ^ (UInt64(bitPattern: Int64(head)) &* golden))
        s = mix(s ^ (UInt64(bitPattern: Int64(length)) &* golden))
        return s
    }

    /// The sampling key of `position` in `stream`.
    public static func key(_ stream: UInt64, _ position: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: mix(stream &+ UInt64(position + 1) &* golden) >> 32)
    }
}
