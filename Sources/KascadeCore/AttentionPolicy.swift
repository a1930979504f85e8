/// Work an attention policy did, counted in keys: what it read against what dense would read.
public struct AttentionStats: Sendable, Hashable, Codable {
    /// Sum over query heads and queries of the keys whose scores and values were read exactly.
    public var keysRead: Double = 0
    /// The same sum for dense causal attention over the same calls.
    public var denseKeys: Double = 0
    /// Layer calls counted.
    public var calls: Int = 0

    public init() {}

    /// Fraction of dense work done, in [0, 1] (1 when nothing ran).
    public var readFraction: Double { denseKeys > 0 ? keysRead / denseKeys : 1 }

    /// Adds one call that read `keys` of a dense `dense`.
    public mutating func record(keys: Double, dense: Double) {
        keysRead += keys
        denseKeys += dense
        calls += 1
    }
}

/// A per-layer attention method that a model calls in every layer (SPEC 2).
///
/// One instance serves all layers of one sequence, so it may keep state between layers of the same
/// step (Kascade's anchor indices) and between steps (Quest's page metadata). Causality is
/// bottom-right aligned: the `T` queries are the last `T` positions of `kv`, query `t` sees keys
/// `0 ... N - T + t`.
public protocol AttentionPolicy: AnyObject {
    /// Method name as the command line spells it (`dense`, `kascade`, `quest`, ...).
    var name: String { get }

    /// Work counters since the last `reset()`.
    var stats: AttentionStats { get }

    /// Forgets all per-sequence state; the next call starts a new sequence.
    func reset()

    /// Attention of one layer.
    /// - Parameters:
    ///   - layer: layer index, 0-based.
    ///   - queries: `[H, T, d]` float32, rotary embedding already applied.
    ///   - queryCount: `T`, with `T <= kv.length`.
    ///   - kv: the layer's cache, including the `T` new positions.
    ///   - output: `[H, T, d]` float32, written in full.
    func attend(layer: Int, queries: UnsafePointer<Float>, queryCount: Int,
                kv: KVCacheView, output: UnsafeMutablePointer<Float>) throws
}

/// Sees each layer's residual stream around attention; Kascade's calibration uses it for the layer
/// importance `imp(j) = 1 - cos(x_j, x_j + attn_out_j)` (SPEC 2.2).
public protocol ResidualObserver: AnyObject {
    /// - Parameters:
    ///   - layer: layer index.
    ///   - residual: `[T, width]` residual stream entering the layer (before attention's add).
    ///   - attentionOutput: `[T, width]` what attention adds to it (after the output projection).
    ///   - tokenCount: `T`.
    ///   - width: model width.
    func observe(layer: Int, residual: UnsafePointer<Float>, attentionOutput: UnsafePointer<Float>,
                 tokenCount: Int, width: Int)
}
