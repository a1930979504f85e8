/// Kascade prefill at one length (batch 1, T = N): each anchor step timed on its own, the reuse
/// layer over the anchor's real selection, and the measured model-level time.
public struct PrefillAnchorShape: Codable, Sendable {
    /// Queries `T` (= keys `N`).
    public var length: Int
    /// Budget fraction and floor of the rolling per-tile budget.
    public var fraction: Double, kMin: Int
    /// Largest `k_t` (slots per selection row) and selected keys summed over tiles and KV heads.
    public var capacity: Int, selectedKeys: Int
    /// Score chunks the tiles were processed in.
    public var chunks: Int
    /// Median milliseconds of each step: `dense` (dense prefill with log-sum-exp, best block shape),
    /// `lse` (log-sum-exp pass alone), `scores` (tile-pooled scores, all chunks), `select` (per-tile
    /// top-k, all chunks), `selection` (scores and top-k interleaved chunk by chunk, as a layer runs
    /// them), `sparse` (the anchor's attention over its own selection), `reuse` (a reuse layer: the
    /// same selection through a many-to-one head map).
    public var ms: [String: Double]
    /// Layer 0: `dense + scores + select` (its output is the dense one).
    public var layer0Ms: Double
    /// An anchor layer as `dense + scores + select + sparse` (the dense kernel supplies the log-sum-exp).
    public var anchorMs: Double
    /// An anchor layer as `lse + scores + select + sparse` (a log-sum-exp pass without the value product).
    public var anchorLsePassMs: Double
    /// `(T_layer0 + 4 T_anchor + 27 T_reuse) / 32` with ``anchorMs``.
    public var modelLevelMs: Double
    /// The same with ``anchorLsePassMs``.
    public var modelLevelLsePassMs: Double
    /// Scratch bytes of the selection: pooled scores of one chunk plus the log-sum-exp `[B, H, T]`.
    public var scratchBytes: Int
    /// Bytes of the selection handed to the reuse layers (indices `[B, G, rows, capacity]` and counts).
    public var selectionBytes: Int
}
