/// One attention layer on host tensors, as `kascade attend` runs it: queries `[B, H, T, d]`, keys and
/// values `[B, G, N, d]`, output `[B, H, T, d]`, index lists `[B, G, rows, k]` int32 padded with `-1`.
///
/// Without `causal` every query sees all `N` keys (decode style; index rows are per query). With
/// `causal` the block is bottom-right causal (query `t` sees `0 ... N - T + t`) and Kascade works on
/// tiles of `tile` absolute positions (index rows are per tile, each holding keys before the tile;
/// the tile's diagonal block is always attended).
public enum SingleLayerAttention {
    /// The methods computed here (the other methods run through ``run(policy:layer:q:k:v:causal:)``).
    public enum Method: String, Sendable, CaseIterable {
        /// Exact softmax attention.
        case dense
        /// Kascade anchor (a layer other than 0): exact pooled top-k, attention restricted to it.
        case anchor
        /// Attention over given indices.
        case reuse
    }

    /// Checks shapes, heads and finiteness; returns the layer geometry and `(B, T, N)`.
    public static func validate(q: HostTensor<Float>, k: HostTensor<Float>, v: HostTensor<Float>,
                                causal: Bool) throws(AttentionError) -> (AttentionGeometry, Int, Int, Int) {
        let (b, h, t, d) = try q.dims4("q")
        let (bk, g, n, dk) = try k.dims4("k")
        guard k.shape == v.shape else { throw .badShape("k \(k.shape) and v \(v.shape) differ") }
        guard b == bk else { throw .badShape("batch of q (\(b)) and k (\(bk)) differ") }
        guard d == dk else { throw .badShape("head dim of q (\(d)) and k (\(dk)) differ") }
        guard b > 0, t > 0, n > 0 else { throw .badShape("empty tensor: q \(q.shape), k \(k.shape)") }
        guard h % max(g, 1) == 0, g > 0 else { throw .badShape("query heads H=\(h) are not a multiple of KV heads G=\(g)") }
        if causal && t > n { throw .badShape("causal block has more queries (T=\(t)) than keys (N=\(n))") }
        try q.requireFinite("q")
        try k.requireFinite("k")
        try v.requireFinite("v")
        return (try AttentionGeometry(queryHeads: h, kvHeads: g, headDim: d), b, t, n)
    }

    /// Runs `method`; returns the output and, for `anchor`, the selected indices.
    public static func run(method: Method, q: HostTensor<Float>, k: HostTensor<Float>, v: HostTensor<Float>,
                           causal: Bool, budget: Budget, tile: Int = 32, indices: HostTensor<Int32>? = nil,
                           workers: Int = ProcessInfoCores.count) throws(AttentionError) -> (output: HostTensor<Float>, indices: HostTensor<Int32>?) {
        let (geo, B, T, N) = try validate(q: q, k: k, v: v, causal: causal)
        let H = geo.queryHeads, G = geo.kvHeads, d = geo.headDim
        let rows = causal ? SparseAttention.tileRows(queryCount: T, length: N, tile: tile) : T
        var given: HostTensor<Int32>? = nil
        if method == .reuse {
            guard let idx = indices else { throw .badArgument("method reuse needs indices (--indices)") }
            let (bi, gi, ri, _) = try idx.dims4("indices")
            guard bi == B, gi == G, ri == rows else {
                throw .badShape("indices \(idx.shape) must be [B=\(B), G=\(G), \(rows) \(causal ? "tiles" : "queries"), k]")
            }
            given = idx
        }
        var out = HostTensor<Float>(shape: [B, H, T, d], repeating: 0)
        var anchorRows: [KeySelection] = []
        let workspace = AttentionWorkspace()
        let tileArg: Int? = causal ? tile : nil
        for b in 0..<B {
            let qOff = b * H * T * d, kvOff = b * G * N * d, oOff = b * H * T * d
            let failure: AttentionError? = q.scalars.withUnsafeBufferPointer { qp in
                k.scalars.withUnsafeBufferPointer { kp in
                    v.scalars.withUnsafeBufferPointer { vp in
                        out.scalars.withUnsafeMutableBufferPointer { op in
                            let kv = KVCacheView(keys: kp.baseAddress! + kvOff, values: vp.baseAddress! + kvOff,
                                                 length: N, capacity: N, geometry: geo)
                            let qb = qp.baseAddress! + qOff, ob = op.baseAddress! + oOff
                            switch method {
                            case .dense:
                                DenseAttention.compute(queries: qb, queryCount: T, kv: kv, output: ob, causal: causal,
                                                       workspace: workspace, workers: workers)
                            case .anchor:
                                var sel = KeySelection(heads: 0, rows: 0, capacity: 0)
                                if causal {
                                    KascadeAnchor.prefill(queries: qb, queryCount: T, kv: kv, budget: budget, tile: tile,
                                                          pooled: false, into: &sel, workspace: workspace, workers: workers)
                                } else {
                                    KascadeAnchor.decode(queries: qb, queryCount: T, kv: kv, budget: budget,
                                                         pooled: false, into: &sel, workspace: workspace, workers: workers)
                                }
                                SparseAttention.compute(queries: qb, queryCount: T, kv: kv, selection: sel, tile: tileArg,
                                                        output: ob, workspace: workspace, workers: workers)
                                anchorRows.append(sel)
                            case .reuse:
                                let idx = given!
                                let per = G * rows * idx.shape[3]
                                let sel = idx.scalars.withUnsafeBufferPointer { ip in
                                    KeySelection(tensor: UnsafeBufferPointer(rebasing: ip[(b * per)..<((b + 1) * per)]),
                                                 heads: G, rows: rows, capacity: idx.shape[3])
                                }
                                do { try SparseAttention.validate(sel, queryCount: T, kv: kv, tile: tileArg) } catch let e as AttentionError {
                                    return e
                                } catch {
                                    return AttentionError.badIndices("\(error)")
                                }
                                SparseAttention.compute(queries: qb, queryCount: T, kv: kv, selection: sel, tile: tileArg,
                                                        output: ob, workspace: workspace, workers: workers)
                            }
                            return nil
                        }
                    }
                }
            }
            if let failure { throw failure }
        }
        guard method == .anchor else { return (out, nil) }
        let cap = anchorRows.map(\.capacity).max() ?? 0
        var idx = HostTensor<Int32>(shape: [B, G, rows, cap], repeating: -1)
        for (b, sel) in anchorRows.enumerated() {
            for g in 0..<G { for r in 0..<rows {
                for (i, p) in sel.positions(head: g, row: r).enumerated() { idx.scalars[((b * G + g) * rows + r) * cap + i] = p }
            } }
        }
        return (out, idx)
    }

    /// Runs any ``AttentionPolicy`` as layer `layer` of a model: causal as one call of `T` queries,
    /// otherwise each query as its own decode step over all `N` keys (the policy is reset before each
    /// batch entry and each decode-style query). `afterEach` runs after every call of the policy (to
    /// read back what it kept, such as an anchor's selection).
    public static func run(policy: AttentionPolicy, layer: Int, q: HostTensor<Float>, k: HostTensor<Float>,
                           v: HostTensor<Float>, causal: Bool, afterEach: () throws -> Void = {}) throws -> HostTensor<Float> {
        let (geo, B, T, N) = try validate(q: q, k: k, v: v, causal: causal)
        let H = geo.queryHeads, G = geo.kvHeads, d = geo.headDim
        var out = HostTensor<Float>(shape: [B, H, T, d], repeating: 0)
        var row = [Float](repeating: 0, count: H * d), rowOut = [Float](repeating: 0, count: H * d)
        for b in 0..<B {
            let qOff = b * H * T * d, kvOff = b * G * N * d
            try k.scalars.withUnsafeBufferPointer { kp in
                try v.scalars.withUnsafeBufferPointer { vp in
                    let kv = KVCacheView(keys: kp.baseAddress! + kvOff, values: vp.baseAddress! + kvOff,
                                         length: N, capacity: N, geometry: geo)
                    if causal {
                        policy.reset()
                        try q.scalars.withUnsafeBufferPointer { qp in
                            try out.scalars.withUnsafeMutableBufferPointer { op in
                                try policy.attend(layer: layer, queries: qp.baseAddress! + qOff, queryCount: T, kv: kv,
                                                  output: op.baseAddress! + qOff)
                            }
                        }
                        try afterEach()
                        return
                    }
                    for t in 0..<T {
                        for h in 0..<H { for x in 0..<d { row[h * d + x] = q.scalars[qOff + (h * T + t) * d + x] } }
                        policy.reset()
                        try policy.attend(layer: layer, queries: row, queryCount: 1, kv: kv, output: &rowOut)
                        try afterEach()
                        for h in 0..<H { for x in 0..<d { out.scalars[qOff + (h * T + t) * d + x] = rowOut[h * d + x] } }
                    }
                }
            }
        }
        return out
    }
}
