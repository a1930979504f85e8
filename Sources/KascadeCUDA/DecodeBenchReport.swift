/// Results of the GPU decode benchmark.
public struct DecodeBenchReport: Codable, Sendable {
    /// Device name.
    public var device: String
    /// Device-to-device copy bandwidth measured in the same run (bytes read + written), TB/s.
    public var copyTBPerSecond: Double
    /// Whether kernels were launched to overlap the end of the kernel before them (``CUDAStream/overlapsLaunches``).
    public var launchOverlap: Bool?
    /// Query heads, KV heads, head dim, dtype.
    public var queryHeads: Int, kvHeads: Int, headDim: Int, dtype: KVDType
    /// Budget fraction of the sparse kernels.
    public var fraction: Double
    /// One entry per shape.
    public var shapes: [DecodeBenchShape]
}
