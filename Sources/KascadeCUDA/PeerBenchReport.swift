/// Results of the peer-method decode benchmark.
public struct PeerBenchReport: Codable, Sendable {
    /// Device name.
    public var device: String
    /// Whether kernels were launched to overlap the end of the kernel before them (``CUDAStream/overlapsLaunches``).
    public var launchOverlap: Bool?
    /// Query heads, KV heads, head dim, dtype.
    public var queryHeads: Int, kvHeads: Int, headDim: Int, dtype: KVDType
    /// Budget fraction (Quest's pages, vAttention's top-k); Twilight's candidates use its base budget.
    public var fraction: Double
    /// One entry per shape.
    public var shapes: [PeerBenchShape]
}
