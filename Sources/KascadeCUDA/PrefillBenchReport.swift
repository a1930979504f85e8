/// Results of the GPU dense prefill benchmark.
public struct PrefillBenchReport: Codable, Sendable {
    /// Device name.
    public var device: String
    /// Query heads, KV heads, head dim, dtype.
    public var queryHeads: Int, kvHeads: Int, headDim: Int, dtype: KVDType
    /// One entry per (length, block size).
    public var shapes: [PrefillBenchShape]
    /// Kascade prefill reuse, one entry per length.
    public var reuse: [PrefillReuseShape]
}
