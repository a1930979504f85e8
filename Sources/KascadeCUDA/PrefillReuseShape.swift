/// Timing of the Kascade prefill reuse kernel at one length, with the model-level estimate.
public struct PrefillReuseShape: Codable, Sendable {
    /// Queries `T` (= keys `N`), batch 1.
    public var length: Int
    /// Budget fraction of each tile's causal context.
    public var fraction: Double
    /// Selected keys summed over tiles and KV heads.
    public var selectedKeys: Int
    /// Median and fastest milliseconds of the reuse kernel.
    public var medianMs: Double, minMs: Double
    /// Fastest dense prefill of this run (ms).
    public var denseMs: Double
    /// `(T_layer0 + 4 T_anchor + 27 T_reuse) / 32` with the dense prefill time standing in for layer 0
    /// and for the anchor (whose tile-pooled selection is not built on the GPU): an estimate.
    public var modelLevelEstimateMs: Double
}
