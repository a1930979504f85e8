// Kascade's anchor and reuse layers on the GPU (Deshmukh, Goyal, Kwatra, Ramjee, arXiv 2512.16391;
// SPEC 2.2): decode steps and tile-level prefill chunks of ``CUDAAttention``.
import KascadeCore

/// The prefill kernels a Kascade chunk needs for one geometry: dense causal (layer 0), the tile-level
/// anchor selection, and the reuse kernel (also the anchor's own output).
final class KascadePrefillKernels {
    let dense: PrefillKernels
    let anchor: PrefillAnchorKernels
    let reuse: PrefillReuseKernels

    init(device: CUDADevice, compiler: KernelCompiler, dtype: KVDType, geometry g: AttentionGeometry) throws(CUDAError) {
        dense = try PrefillKernels(device: device, compiler: compiler, dtype: dtype, headDim: g.headDim,
                                   queryHeads: g.queryHeads, kvHeads: g.kvHeads)
        anchor = try PrefillAnchorKernels(device: device, compiler: compiler, dtype: dtype, headDim: g.headDim,
                                          queryHeads: g.queryHeads, kvHeads: g.kvHeads)
        reuse = try PrefillReuseKernels(device: device, compiler: compiler, dtype: dtype, headDim: g.headDim,
                                        queryHeads: g.queryHeads, kvHeads: g.kvHeads)
    }
}

/// A prefill anchor's selection kept on the device for the reuse layers of the same chunk.
struct KascadePrefillSelection {
    /// Keys `N`, queries `T` and the anchor layer it belongs to.
    let length: Int, queryCount: Int, layer: Int
    /// The plan it was made with (rows, row capacity).
    let plan: PrefillAnchorPlan
    /// Selection heads: `G`, or 1 for the `pooled` variant.
    let heads: Int
    /// Keys selected per (selection head, row), `[heads, rows]`, read back for the statistics.
    let counts: [Int32]
}

extension CUDAAttention {
    /// One decode step (`T == 1`) of Kascade: `q [1, H, d]` in `q`, keys and values `[G, N, d]`,
    /// `out [1, H, d]` fp32.
    func attendKascadeDecode(_ kern: DecodeKernels, _ schedule: KascadeSchedule, _ variant: KascadeVariant, layer: Int,
                             N: Int, geometry geo: AttentionGeometry, q: DeviceBuffer, k: DeviceBuffer, v: DeviceBuffer,
                             out: DeviceBuffer) throws {
        let H = geo.queryHeads, G = geo.kvHeads
        let dense = Double(H * N)
        let p = DecodeInputs(q: q.address, k: k.address, v: v.address, batch: 1, length: N)
        let kk = schedule.budget.keys(outOf: N)
        let pooled = variant == .pooled
        let heads = pooled ? 1 : G
        let idx = try buffer("idx", bytes: G * kk * 4)
        if schedule.isAnchor(layer) {
            let stride = (N + 3) / 4 * 4
            let logits = try buffer("logits", bytes: H * stride * 4)
            let lse = try buffer("lse", bytes: H * 4)
            if layer == 0 {
                // Layer 0: dense output, its scores kept for the selection.
                try kern.dense(p, out: out.address, lse: lse.address, logits: logits.address, logitStride: stride, stream: stream)
                if pooled {
                    try kern.selectPooled(batch: 1, length: N, logits: logits.address, logitStride: stride, lse: lse.address,
                                          pooled: nil, pooledStride: 0, idx: idx.address, idxStride: kk, k: kk, stream: stream)
                } else {
                    try kern.select(batch: 1, length: N, logits: logits.address, logitStride: stride, lse: lse.address,
                                    pooled: nil, pooledStride: 0, idx: idx.address, idxStride: kk, k: kk, stream: stream)
                }
            } else {
                try kern.anchor(p, logits: logits.address, logitStride: stride, lse: lse.address, idx: idx.address,
                                idxStride: kk, k: kk, pooled: pooled, out: out.address, stream: stream)
            }
            selectionKey = (N, layer, kk, heads)
            prefillSelection = nil
            stats.record(keys: dense, dense: dense)
            return
        }
        guard let key = selectionKey, key.length == N, key.layer == schedule.anchor(of: layer), key.k == kk, key.heads == heads else {
            throw AttentionError.badArgument("reuse layer \(layer) called before its anchor layer \(schedule.anchor(of: layer)) in this step")
        }
        // Every KV head reads the pooled row 0 (one index row); otherwise its own row, or the head map's.
        var map: UInt64? = nil
        if variant == .headAware {
            let mb = try buffer("map", bytes: G * 4)
            try mb.upload(schedule.headMaps[layer].map { Int32($0) })
            map = mb.address
        }
        try kern.sparse(p, idx: idx.address, idxStride: kk, idxHeads: heads, count: kk, headMap: map, out: out.address, stream: stream)
        stats.record(keys: Double(kk * H), dense: dense)
    }

    /// One prefill chunk (`T > 1` queries, bottom-right causal) of Kascade with tiles of 32 (`pooled`:
    /// one selection per tile from the scores summed over the KV heads, read by every head): `queries
    /// [H, T, d]` on the host, keys and values `[G, N, d]` on the device; writes `output [H, T, d]`.
    func attendKascadePrefill(_ schedule: KascadeSchedule, _ variant: KascadeVariant, layer: Int, queries: UnsafePointer<Float>,
                              T: Int, kv: KVCacheView, k: DeviceBuffer, v: DeviceBuffer,
                              output: UnsafeMutablePointer<Float>) throws {
        guard schedule.tile == PrefillAnchorPlan.tile else {
            throw CUDAError.unsupported("Kascade prefill tile \(schedule.tile) on the GPU; the kernels use \(PrefillAnchorPlan.tile)")
        }
        let geo = kv.geometry, N = kv.length, H = geo.queryHeads, G = geo.kvHeads, d = geo.headDim
        let key = "\(H)/\(G)/\(d)"
        let kern: KascadePrefillKernels
        if let kp = prefillKernels[key] { kern = kp } else {
            kern = try KascadePrefillKernels(device: device, compiler: compiler, dtype: dtype, geometry: geo)
            prefillKernels[key] = kern
        }
        var qBits = [UInt16](repeating: 0, count: H * T * d)
        for i in 0..<(H * T * d) { qBits[i] = HalfPrecision.bits(queries[i], dtype) }
        let qb = try buffer("pq", bytes: qBits.count * 2), ob = try buffer("pout", bytes: H * T * d * 2)
        try qb.upload(qBits)
        let dense = DenseAttention.causalKeys(queryCount: T, kv: kv)
        let identity = Array(0..<G)
        let pooled = variant == .pooled, heads = pooled ? 1 : G
        let kept: (selection: KascadePrefillSelection, idx: DeviceBuffer, counts: DeviceBuffer)
        let map = pooled ? [Int](repeating: 0, count: G)
            : schedule.isAnchor(layer) || variant == .noRemap ? identity : schedule.headMaps[layer]
        if schedule.isAnchor(layer) {
            let plan = try PrefillAnchorPlan(batch: 1, kvHeads: G, queryCount: T, length: N, budget: schedule.budget)
            let cap = max(plan.capacity, 1)
            let idx = try buffer("pidx", bytes: heads * plan.rows * cap * 4), counts = try buffer("pcounts", bytes: heads * plan.rows * 4)
            let lse = try buffer("plse", bytes: H * T * 4), scores = try buffer("pscores", bytes: max(plan.scoreBytes, 4))
            if layer == 0 {
                try kern.dense.causal(q: qb.address, k: k.address, v: v.address, batch: 1, queryCount: T, length: N,
                                      out: ob.address, lse: lse.address, stream: stream)
            } else {
                try kern.anchor.lse(q: qb.address, k: k.address, batch: 1, queryCount: T, length: N, lse: lse.address, stream: stream)
            }
            if pooled {
                let summed = try buffer("ppooled", bytes: max(plan.scoreBytes / G, 4))
                try kern.anchor.selectPooled(q: qb.address, k: k.address, lse: lse.address, plan: plan, scores: scores.address,
                                             pooledScores: summed.address, idx: idx.address, counts: counts.address, stream: stream)
            } else {
                try kern.anchor.select(q: qb.address, k: k.address, lse: lse.address, plan: plan, scores: scores.address,
                                       idx: idx.address, counts: counts.address, stream: stream)
            }
            let selection = KascadePrefillSelection(length: N, queryCount: T, layer: layer, plan: plan, heads: heads,
                                                    counts: try counts.download(Int32.self, count: heads * plan.rows))
            kept = (selection, idx, counts)
            prefillSelection = kept
            selectionKey = nil
            stats.record(keys: dense, dense: dense)
        } else {
            guard let p = prefillSelection, p.selection.length == N, p.selection.queryCount == T,
                  p.selection.layer == schedule.anchor(of: layer) else {
                throw AttentionError.badArgument("reuse layer \(layer) called before its anchor layer \(schedule.anchor(of: layer)) in this chunk")
            }
            kept = p
            stats.record(keys: Self.prefillKeysRead(p.selection, map: map, group: H / G, queryCount: T, length: N), dense: dense)
        }
        if layer != 0 {
            let mb = try buffer("pmap", bytes: G * 4)
            try mb.upload(map.map { Int32($0) })
            try kern.reuse.reuse(q: qb.address, k: k.address, v: v.address, batch: 1, queryCount: T, length: N,
                                 idx: kept.idx.address, counts: kept.counts.address,
                                 idxHeads: kept.selection.heads, cap: max(kept.selection.plan.capacity, 1), headMap: mb.address,
                                 out: ob.address, stream: stream)
        }
        let bits = try ob.download(UInt16.self, count: H * T * d)     // waits for the stream
        for i in 0..<(H * T * d) { output[i] = HalfPrecision.value(bits[i], dtype) }
    }

    /// The most recent anchor's selection, read back from the device: decode `[heads, 1, k]` (one
    /// head when pooled), prefill `[G, rows, capacity]`; nil before the first anchor.
    public func anchorSelection() throws(CUDAError) -> KeySelection? {
        if let a = try anchorIndices() {
            var sel = KeySelection(heads: a.heads, rows: 1, capacity: a.k)
            for h in 0..<a.heads { sel.set(head: h, row: 0, Array(a.indices[(h * a.k)..<((h + 1) * a.k)])) }
            return sel
        }
        guard let (p, idxBuffer, _) = prefillSelection else { return nil }
        let rows = p.plan.rows, cap = max(p.plan.capacity, 1), G = p.heads
        let idx = try idxBuffer.download(Int32.self, count: G * rows * cap)
        var sel = KeySelection(heads: G, rows: rows, capacity: cap)
        for g in 0..<G {
            for r in 0..<rows {
                let base = (g * rows + r) * cap, n = Int(p.counts[g * rows + r])
                guard n >= 0, n <= cap else { throw .badArgument("prefill selection row (\(g), \(r)) holds \(n) of \(cap) keys") }
                sel.set(head: g, row: r, Array(idx[base..<(base + n)]))
            }
        }
        return sel
    }

    /// Keys a prefill reuse layer reads, summed over query heads and queries: each query's selected
    /// keys (its tile's row through `map`) plus its diagonal block.
    static func prefillKeysRead(_ sel: KascadePrefillSelection, map: [Int], group: Int, queryCount T: Int, length N: Int) -> Double {
        let tile = PrefillAnchorPlan.tile, rows = sel.plan.rows
        var read = 0
        for g in 0..<map.count {
            for t in 0..<T {
                let p = N - T + t
                let row = p / tile - (N - T) / tile
                read += Int(sel.counts[map[g] * rows + row]) + p - (p / tile) * tile + 1
            }
        }
        return Double(read * group)
    }
}
