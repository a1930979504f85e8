// Kascade: anchor and reuse layers (Deshmukh, Goyal, Kwatra, Ramjee, arXiv 2512.16391; SPEC 2.2).

/// Kascade as an ``AttentionPolicy`` the model plugs into every layer.
///
/// Anchor layers of the schedule compute exact top-k indices (``KascadeAnchor``) and attend over
/// them (layer 0 attends densely); the indices are kept until the next anchor, and reuse layers
/// attend over them with their own Q, K, V through the head map. `T == 1` is a decode step (the query
/// sees all `N` keys); `T > 1` is a causal prefill chunk with tile-level selection, tiles aligned
/// with absolute positions (chunks that start at a multiple of the tile keep tiles whole).
///
/// `stats.keysRead` counts keys whose score was computed exactly: every visible key in anchor
/// layers (they score the whole context), the selected keys plus the diagonal blocks in reuse layers.
public final class KascadeAttention: AttentionPolicy {
    public let name = "kascade"
    public private(set) var stats = AttentionStats()
    /// The anchors, head maps and budget.
    public let schedule: KascadeSchedule
    /// Head-aware (default), pooled or no-remap.
    public let variant: KascadeVariant
    /// Cores used per call.
    public var workers: Int

    private let workspace = AttentionWorkspace()
    private var selection = KeySelection(heads: 0, rows: 0, capacity: 0)
    /// `(N, T, anchor layer)` of the kept selection; nil before the first anchor of a sequence.
    private var selectionKey: (length: Int, queries: Int, layer: Int)? = nil
    private let identity: [Int]

    /// A policy running `schedule` in the given variant.
    public init(schedule: KascadeSchedule, variant: KascadeVariant = .headAware, workers: Int = ProcessInfoCores.count) {
        self.schedule = schedule
        self.variant = variant
        self.workers = workers
        identity = Array(0..<schedule.kvHeads)
    }

    public func reset() {
        stats = AttentionStats()
        selectionKey = nil
    }

    /// The index sets of the most recent anchor (`[heads, rows, k]`), for inspection.
    public var anchorSelection: KeySelection? { selectionKey == nil ? nil : selection }

    public func attend(layer: Int, queries: UnsafePointer<Float>, queryCount T: Int,
                       kv: KVCacheView, output: UnsafeMutablePointer<Float>) throws {
        let geo = kv.geometry, N = kv.length
        guard layer >= 0, layer < schedule.layers else {
            throw AttentionError.badArgument("layer \(layer) is outside the schedule's \(schedule.layers) layers")
        }
        guard geo.kvHeads == schedule.kvHeads else {
            throw AttentionError.badShape("layer has \(geo.kvHeads) KV heads, the schedule \(schedule.kvHeads)")
        }
        guard T >= 1, T <= N else { throw AttentionError.badShape("queries \(T) for \(N) keys") }
        let dense = DenseAttention.causalKeys(queryCount: T, kv: kv)
        let tile: Int? = T == 1 ? nil : schedule.tile
        let pooled = variant == .pooled
        if schedule.isAnchor(layer) {
            if let tile {
                KascadeAnchor.prefill(queries: queries, queryCount: T, kv: kv, budget: schedule.budget, tile: tile,
                                      pooled: pooled, into: &selection, workspace: workspace, workers: workers)
            } else {
                KascadeAnchor.decode(queries: queries, queryCount: T, kv: kv, budget: schedule.budget,
                                     pooled: pooled, into: &selection, workspace: workspace, workers: workers,
                                     denseOutput: layer == 0 ? output : nil)
            }
            selectionKey = (N, T, layer)
            if layer == 0 && tile == nil {
                // The decode anchor wrote the dense output from the scores it computed.
            } else if layer == 0 {
                DenseAttention.compute(queries: queries, queryCount: T, kv: kv, output: output, causal: true,
                                       workspace: workspace, workers: workers)
            } else {
                SparseAttention.compute(queries: queries, queryCount: T, kv: kv, selection: selection, headMap: identity,
                                        tile: tile, output: output, workspace: workspace, workers: workers)
            }
            stats.record(keys: dense, dense: dense)
            return
        }
        guard let key = selectionKey, key.length == N, key.queries == T, key.layer == schedule.anchor(of: layer) else {
            throw AttentionError.badArgument("reuse layer \(layer) called before its anchor layer \(schedule.anchor(of: layer)) in this step")
        }
        let map = variant == .headAware ? schedule.headMaps[layer] : identity
        let read = SparseAttention.compute(queries: queries, queryCount: T, kv: kv, selection: selection, headMap: map,
                                           tile: tile, output: output, workspace: workspace, workers: workers)
        stats.record(keys: read, dense: dense)
    }
}
