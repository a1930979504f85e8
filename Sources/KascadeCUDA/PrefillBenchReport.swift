/// Results of the GPU prefill benchmark: dense causal prefill and Kascade prefill.
public struct PrefillBenchReport: Codable, Sendable {
    /// Device name.
    public var device: String
    /// Query heads, KV heads, head dim, dtype.
    public var queryHeads: Int, kvHeads: Int, headDim: Int, dtype: KVDType
    /// Dense prefill, one entry per (length, block size).
    public var shapes: [PrefillBenchShape]
    /// Kascade prefill (anchor steps, reuse, model level), one entry per length.
    public var anchor: [PrefillAnchorShape]
}
