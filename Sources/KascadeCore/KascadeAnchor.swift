// Kascade: anchor-layer top-k selection.
// Deshmukh, Goyal, Kwatra, Ramjee, "Kascade: ..." arXiv 2512.16391 (SPEC 2.2).
import Dispatch

/// Kascade's anchor selection: exact GQA-pooled post-softmax scores and their top-k per KV head.
///
/// - Decode (``decode(queries:queryCount:kv:budget:pooled:into:workspace:workers:)``): each query
///   sees all `N` keys; for query head `h`, `p_h = softmax(q_h K^T * scale)`; `s_g = sum_(h in g) p_h`;
///   row `t` of KV head `g` holds `topk(s_g, k)`, `k = budget.keys(outOf: N)`.
/// - Prefill (``prefill(queries:queryCount:kv:budget:tile:pooled:into:workspace:workers:)``):
///   tiles of `tile` absolute positions; a tile starting at `t0` scores candidates `< t0` by the sum of
///   the full causal softmax probabilities over its queries (those among the last `T`) and the group's
///   heads, and keeps `k_t = budget.keys(outOf: t0) = min(max(kMin, ceil(fraction t0)), t0)`; when
///   `k_t = t0` (in particular `t0 <= kMin`) the tile keeps every earlier key, i.e. it is dense.
///
/// When `scores` is given, each row's pooled scores are also written to `scores + row' * scoreStride`
/// (`row' = head * rows + row`, `scoreStride >=` the row's candidates) — calibration reads them.
/// `pooled` sums over all query heads into one set shared by the layer (variant ``KascadeVariant/pooled``).
/// Ties break towards the lower position; positions in a row are ascending.
public enum KascadeAnchor {
    /// Decode selection of the `T` queries `[H, T, d]`, rows `[heads, T, k]`, written into `selection`;
    /// with `denseOutput` (`[H, T, d]`) also the exact dense attention output, from the same scores.
    public static func decode(queries: UnsafePointer<Float>, queryCount T: Int, kv: KVCacheView,
                              budget: Budget, pooled: Bool, into selection: inout KeySelection,
                              workspace: AttentionWorkspace, workers: Int = ProcessInfoCores.count,
                              scores: UnsafeMutablePointer<Float>? = nil, scoreStride: Int = 0,
                              denseOutput: UnsafeMutablePointer<Float>? = nil) {
        let N = kv.length
        let k = budget.keys(outOf: N)
        let heads = pooled ? 1 : kv.geometry.kvHeads
        selection.reshape(heads: heads, rows: T, capacity: k)
        if denseOutput != nil || T <= 4 || heads * T < 2 * max(workers, 1) {
            KascadeAnchorDecode.select(queries: queries, queryCount: T, kv: kv, heads: heads, k: k, selection: &selection,
                                       workspace: workspace, workers: workers, scoresOut: scores, scoreStride: scoreStride,
                                       output: denseOutput)
            return
        }
        score(queries: queries, queryCount: T, kv: kv, heads: heads, rows: T, decode: true, selection: &selection,
              workspace: workspace, workers: workers, scoresOut: scores, scoreStride: scoreStride) { _, t in (t, t + 1, N, k) }
    }

    /// Tile-level prefill selection of the last `T` of `N` positions, queries `[H, T, d]`; rows
    /// `[heads, tiles, max k_t]` (`SparseAttention.tileRows`), written into `selection`.
    public static func prefill(queries: UnsafePointer<Float>, queryCount T: Int, kv: KVCacheView,
                               budget: Budget, tile: Int, pooled: Bool, into selection: inout KeySelection,
                               workspace: AttentionWorkspace, workers: Int = ProcessInfoCores.count,
                               scores: UnsafeMutablePointer<Float>? = nil, scoreStride: Int = 0) {
        let N = kv.length
        let first = (N - T) / tile
        let rows = SparseAttention.tileRows(queryCount: T, length: N, tile: tile)
        var cap = 0
        for row in 0..<rows { cap = max(cap, budget.keys(outOf: (first + row) * tile)) }
        let heads = pooled ? 1 : kv.geometry.kvHeads
        selection.reshape(heads: heads, rows: rows, capacity: cap)
        score(queries: queries, queryCount: T, kv: kv, heads: heads, rows: rows, decode: false, selection: &selection,
              workspace: workspace, workers: workers, scoresOut: scores, scoreStride: scoreStride) { _, row in
            let t0 = (first + row) * tile
            // Queries of the tile among the last T: positions max(t0, N-T) ..< min(t0+tile, N).
            let lo = max(t0, N - T) - (N - T), hi = min(t0 + tile, N) - (N - T)
            return (lo, hi, t0, budget.keys(outOf: t0))
        }
    }

    /// Shared scoring loop. `plan(head, row)` gives the query range `tLo ..< tHi`, the candidate count
    /// and `k` of a row; each query `t` sees keys `0 ... N - T + t`, or all `N` keys when `decode`.
    static func score(queries: UnsafePointer<Float>, queryCount T: Int, kv: KVCacheView, heads: Int, rows: Int, decode decodeRows: Bool,
                      selection: inout KeySelection, workspace: AttentionWorkspace, workers: Int,
                      scoresOut: UnsafeMutablePointer<Float>?, scoreStride: Int,
                      plan: (Int, Int) -> (tLo: Int, tHi: Int, candidates: Int, k: Int)) {
        let geo = kv.geometry, N = kv.length, d = geo.headDim
        let groups = heads == 1 ? geo.queryHeads : geo.groupSize
        let jobs = heads * rows
        let active = max(1, min(workers, jobs))
        // Per worker `w`: scores, pooled row and top-k scratch at offset `w * N` of one buffer each.
        let sc = workspace.floats(10, active * N), pooledRows = workspace.floats(11, active * N)
        let tk = workspace.ints(10, active * N)
        let cap = selection.capacity
        let scale = geo.scale
        selection.indices.withUnsafeMutableBufferPointer { idx in
            selection.counts.withUnsafeMutableBufferPointer { counts in
                let ib = idx.baseAddress!, cb = counts.baseAddress!
                withoutActuallyEscaping(plan) { plan in
                    let body = { (w: Int) in
                        let s = sc + w * N, pool = pooledRows + w * N, scratch = tk + w * N
                        var job = w
                        while job < jobs {
                            let head = job / rows, row = job % rows
                            let p = plan(head, row)
                            let c = p.candidates
                            for n in 0..<c { pool[n] = 0 }
                            for t in p.tLo..<p.tHi {
                                let visible = decodeRows ? N : N - T + t + 1
                                for i in 0..<groups {
                                    let h = heads == 1 ? i : head * geo.groupSize + i
                                    let g = geo.kvHead(ofQueryHead: h)
                                    let q = queries + (h * T + t) * d
                                    var m = -Float.infinity
                                    for n in 0..<visible {
                                        let v = VectorMath.dot(q, kv.key(g, n), d) * scale
                                        s[n] = v
                                        m = max(m, v)
                                    }
                                    let inv = 1 / VectorMath.expShiftedSum(s, visible, shift: m)
                                    VectorMath.axpy(pool, inv, s, c)
                                }
                            }
                            if let out = scoresOut {
                                for n in 0..<c { out[job * scoreStride + n] = pool[n] }
                            }
                            let k = min(p.k, c)
                            TopK.select(scores: pool, count: c, k: k, scratch: scratch,
                                        into: ib + job * cap)
                            cb[job] = Int32(k)
                            job += active
                        }
                    }
                    if active == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: active, execute: body) }
                }
            }
        }
    }
}
