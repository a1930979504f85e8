/// One kernel's result on one case.
public struct DecodeCheckRow: Codable, Sendable {
    /// Kernel: `dense`, `layer0`, `anchor`, `reuse`.
    public var kernel: String
    /// The case.
    public var shape: String
    /// `|out - ref| / |ref|` (Frobenius norms) against the CPU float32 reference.
    public var relError: Double
    /// Mean fraction of the CPU's top-k set the GPU also chose (selecting kernels only).
    public var agreement: Double?
    /// Keys the GPU chose that the CPU did not and that are not near-ties (relative 1e-4).
    public var hardMismatches: Int?
    /// Keys selected per (sequence, KV head).
    public var k: Int?
    /// Whether the row passes (error <= tolerance, indices valid, no hard mismatches).
    public var passed: Bool
    /// What failed, if anything.
    public var note: String
}
