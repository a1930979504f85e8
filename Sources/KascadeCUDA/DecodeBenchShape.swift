/// Timings of every decode kernel at one (batch, context) shape.
public struct DecodeBenchShape: Codable, Sendable {
    /// Sequences.
    public var batch: Int
    /// Context length.
    public var length: Int
    /// Keys per (sequence, KV head) the sparse kernels read.
    public var k: Int
    /// Attention kernel variants: dense/scores `+` gather, each `tile x stages x waves`.
    public var variant: String
    /// Split-KV splits the dense kernel used.
    public var splits: Int
    /// Kernel name -> timing (`dense`, `layer0`, `anchor`, `reuse`, `anchor.scores`, `anchor.select`, the
    /// selection paths, `anchor.gatherKV`, `layer0.pooled`, `anchor.pooled`, `reuse.pooled`, `streaming`).
    public var kernels: [String: KernelTiming]
    /// `(T_layer0 + 4 T_anchor + 27 T_reuse) / 32`, milliseconds.
    public var modelLevelMs: Double
    /// The same average for Kascade's `pooled` variant (`layer0.pooled`, `anchor.pooled`, `reuse.pooled`).
    public var pooledModelLevelMs: Double?
}
