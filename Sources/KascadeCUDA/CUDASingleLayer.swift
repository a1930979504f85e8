// One Kascade anchor or reuse layer on the GPU (Deshmukh, Goyal, Kwatra, Ramjee, arXiv 2512.16391;
// SPEC 2.2, SPEC 4 `kascade attend --device cuda`).
import KascadeCore

/// The GPU counterpart of ``KascadeCore/SingleLayerAttention/run(method:q:k:v:causal:budget:tile:indices:workers:)``
/// for `anchor` and `reuse` (dense and the model-level methods run through ``CUDAAttention``):
/// queries `[B, H, T, d]`, keys and values `[B, G, N, d]`, output `[B, H, T, d]`, index lists
/// `[B, G, rows, k]` int32 padded with `-1` (rows per query without `causal`, per 32-position tile with it).
public enum CUDASingleLayer {
    /// Runs `method` (`.anchor` or `.reuse`); returns the output and, for `anchor`, the selected indices.
    public static func run(method: SingleLayerAttention.Method, q: HostTensor<Float>, k: HostTensor<Float>, v: HostTensor<Float>,
                           causal: Bool, budget: Budget, tile: Int, indices: HostTensor<Int32>?, dtype: KVDType,
                           device: CUDADevice? = nil) throws -> (output: HostTensor<Float>, indices: HostTensor<Int32>?) {
        let (geo, B, T, N) = try SingleLayerAttention.validate(q: q, k: k, v: v, causal: causal)
        if causal && tile != PrefillAnchorPlan.tile {
            throw CUDAError.unsupported("--causal Kascade on the GPU uses tiles of \(PrefillAnchorPlan.tile) positions, not \(tile)")
        }
        let dev = try device ?? CUDADevice()
        switch method {
        case .anchor: return try anchor(q: q, k: k, v: v, geometry: geo, B: B, T: T, N: N, causal: causal, budget: budget,
                                        dtype: dtype, device: dev)
        case .reuse:
            guard let indices else { throw AttentionError.badArgument("method reuse needs indices (--indices)") }
            return (try reuse(q: q, k: k, v: v, geometry: geo, B: B, T: T, N: N, causal: causal, indices: indices,
                              dtype: dtype, device: dev), nil)
        case .dense:
            let policy = try CUDAAttention(method: .dense, dtype: dtype, device: dev)
            return (try SingleLayerAttention.run(policy: policy, layer: 0, q: q, k: k, v: v, causal: causal), nil)
        }
    }

    /// The anchor through ``CUDAAttention``: layer 2 of a three-layer schedule whose anchors are 0 and 2,
    /// one decode step per query row (or one prefill chunk), its selection read back per row.
    static func anchor(q: HostTensor<Float>, k: HostTensor<Float>, v: HostTensor<Float>, geometry geo: AttentionGeometry,
                       B: Int, T: Int, N: Int, causal: Bool, budget: Budget, dtype: KVDType,
                       device: CUDADevice) throws -> (output: HostTensor<Float>, indices: HostTensor<Int32>?) {
        let G = geo.kvHeads
        let schedule = try KascadeSchedule(layers: 3, kvHeads: G, anchors: [0, 2], headMaps: Array(repeating: Array(0..<G), count: 3),
                                           fraction: budget.fraction, tile: PrefillAnchorPlan.tile, kMin: budget.kMin,
                                           modelID: "attend", devSetID: "none")
        let policy = try CUDAAttention(method: .kascade(schedule, .headAware), dtype: dtype, device: device)
        var selections: [KeySelection] = []
        let out = try SingleLayerAttention.run(policy: policy, layer: 2, q: q, k: k, v: v, causal: causal) {
            if let sel = try policy.anchorSelection() { selections.append(sel) }
        }
        // Decode: one selection per (sequence, query) of one row each; prefill: one per sequence.
        let rows = causal ? SparseAttention.tileRows(queryCount: T, length: N, tile: PrefillAnchorPlan.tile) : T
        let cap = selections.map(\.capacity).max() ?? 0
        var idx = HostTensor<Int32>(shape: [B, G, rows, cap], repeating: -1)
        for (i, sel) in selections.enumerated() {
            let b = causal ? i : i / T, r0 = causal ? 0 : i % T
            for g in 0..<G {
                for r in 0..<sel.rows {
                    for (j, p) in sel.positions(head: g, row: r).enumerated() { idx.scalars[((b * G + g) * rows + r0 + r) * cap + j] = p }
                }
            }
        }
        return (out, idx)
    }

    /// Attention over given index lists: decode rows through the gather kernel, causal tiles through
    /// the prefill reuse kernel (each tile also reads its diagonal block).
    static func reuse(q: HostTensor<Float>, k: HostTensor<Float>, v: HostTensor<Float>, geometry geo: AttentionGeometry,
                      B: Int, T: Int, N: Int, causal: Bool, indices: HostTensor<Int32>, dtype: KVDType,
                      device: CUDADevice) throws -> HostTensor<Float> {
        let H = geo.queryHeads, G = geo.kvHeads, d = geo.headDim, group = H / G
        let rows = causal ? SparseAttention.tileRows(queryCount: T, length: N, tile: PrefillAnchorPlan.tile) : T
        let (bi, gi, ri, cap) = try indices.dims4("indices")
        guard bi == B, gi == G, ri == rows else {
            throw AttentionError.badShape("indices \(indices.shape) must be [B=\(B), G=\(G), \(rows) \(causal ? "tiles" : "queries"), k]")
        }
        let compiler = try KernelCompiler(architecture: device.architecture)
        let stream = try CUDAStream(device: device)
        let kb = try device.allocate(G * N * d * 2), vb = try device.allocate(G * N * d * 2)
        // Causal: the prefill reuse kernel over each sequence's compacted rows; decode: the gather kernel per query.
        var prefill: PrefillReuseKernels? = nil, decode: DecodeKernels? = nil
        if causal {
            prefill = try PrefillReuseKernels(device: device, compiler: compiler, dtype: dtype, headDim: d, queryHeads: H, kvHeads: G)
        } else {
            decode = try DecodeKernels(device: device, compiler: compiler, dtype: dtype, headDim: d, queryHeads: H, kvHeads: G)
        }
        let qb = try device.allocate(H * (causal ? T : 1) * d * 2), ob = try device.allocate(H * (causal ? T * 2 : 4) * d)
        let ib = try device.allocate(max(1, G * (causal ? rows : 1) * cap) * 4), cb = try device.allocate(G * rows * 4)
        var out = HostTensor<Float>(shape: [B, H, T, d], repeating: 0)
        let per = G * rows * cap
        for b in 0..<B {
            let kvOff = b * G * N * d
            try kb.upload(bits(k.scalars[kvOff..<(kvOff + G * N * d)], dtype))
            try vb.upload(bits(v.scalars[kvOff..<(kvOff + G * N * d)], dtype))
            let sel = indices.scalars.withUnsafeBufferPointer { ip in
                KeySelection(tensor: UnsafeBufferPointer(rebasing: ip[(b * per)..<((b + 1) * per)]), heads: G, rows: rows, capacity: cap)
            }
            try k.scalars.withUnsafeBufferPointer { kp in
                try v.scalars.withUnsafeBufferPointer { vp in
                    let view = KVCacheView(keys: kp.baseAddress! + kvOff, values: vp.baseAddress! + kvOff, length: N, capacity: N, geometry: geo)
                    try SparseAttention.validate(sel, queryCount: T, kv: view, tile: causal ? PrefillAnchorPlan.tile : nil)
                }
            }
            let qOff = b * H * T * d
            if let kern = prefill {
                try qb.upload(bits(q.scalars[qOff..<(qOff + H * T * d)], dtype))
                try ib.upload(sel.indices.isEmpty ? [Int32(0)] : sel.indices)
                try cb.upload(sel.counts)
                try kern.reuse(q: qb.address, k: kb.address, v: vb.address, batch: 1, queryCount: T, length: N,
                               idx: ib.address, counts: cb.address, idxHeads: G, cap: cap, headMap: nil, out: ob.address, stream: stream)
                let o = try ob.download(UInt16.self, count: H * T * d)
                for i in 0..<(H * T * d) { out.scalars[qOff + i] = HalfPrecision.value(o[i], dtype) }
                continue
            }
            guard let kern = decode else { continue }
            for t in 0..<T {
                var row = [Float](repeating: 0, count: H * d)
                for h in 0..<H { for x in 0..<d { row[h * d + x] = q.scalars[qOff + (h * T + t) * d + x] } }
                try qb.upload(bits(row[...], dtype))
                // Heads with equal counts run together; the other heads' rows hold any valid positions.
                let counts = (0..<G).map { Int(sel.counts[$0 * rows + t]) }
                for c in Set(counts) where c > 0 {
                    var list = [Int32](repeating: 0, count: G * c)
                    for g in 0..<G {
                        let pos = counts[g] == c ? Array(sel.positions(head: g, row: t)) : (0..<c).map { Int32($0) }
                        for j in 0..<c { list[g * c + j] = pos[j] }
                    }
                    try ib.upload(list)
                    let p = DecodeInputs(q: qb.address, k: kb.address, v: vb.address, batch: 1, length: N)
                    try kern.sparse(p, idx: ib.address, idxStride: c, idxHeads: G, count: c, headMap: nil, out: ob.address, stream: stream)
                    let o = try ob.download(Float.self, count: H * d)
                    for h in 0..<H where counts[h / group] == c {
                        for x in 0..<d { out.scalars[qOff + (h * T + t) * d + x] = o[h * d + x] }
                    }
                }
            }
        }
        return out
    }

    /// 16-bit element bits of `values`.
    static func bits(_ values: ArraySlice<Float>, _ dtype: KVDType) -> [UInt16] {
        values.map { HalfPrecision.bits($0, dtype) }
    }
}
