// Kascade's anchor output over its own selection from the scores it already computed (Deshmukh et
// al., arXiv 2512.16391): the anchor scored every key, so its sparse step gathers only values.

extension DecodeKernels {
    /// Kascade's anchor layer in decode: the scaled scores into `logits [B, G, logitStride, H/G]`,
    /// their log-sum-exp into `lse [B, H]`, the top `k` positions into `idx` and the attention over
    /// them into `out [B, H, d]` fp32. Head-aware: a row per (sequence, KV head), `idx [B, G, idxStride]`,
    /// through ``scoresSelect(_:logits:logitStride:lse:idx:idxStride:k:stream:)``; `pooled`: one row
    /// per sequence over every head's probabilities, `idx [B, idxStride]` (``selectPooled``). The
    /// output gathers values only where ``sparseOverScores(_:idx:idxStride:idxHeads:count:logits:logitStride:out:stream:)``
    /// is built, else keys and values. (Computing it in the selection's own block measured slower:
    /// bench/results/anchor-lse/3.)
    public func anchor(_ p: DecodeInputs, logits: UInt64, logitStride: Int, lse: UInt64, idx: UInt64, idxStride: Int,
                       k: Int, pooled: Bool = false, out: UInt64, stream: CUDAStream) throws(CUDAError) {
        if pooled {
            try scores(p, logits: logits, logitStride: logitStride, lse: lse, stream: stream)
            try selectPooled(batch: p.batch, length: p.length, logits: logits, logitStride: logitStride, lse: lse,
                             pooled: nil, pooledStride: 0, idx: idx, idxStride: idxStride, k: k, stream: stream)
        } else {
            try scoresSelect(p, logits: logits, logitStride: logitStride, lse: lse, idx: idx, idxStride: idxStride, k: k, stream: stream)
        }
        let rows = pooled ? 1 : kvHeads
        if gathersOverScores {
            try sparseOverScores(p, idx: idx, idxStride: idxStride, idxHeads: rows, count: k, logits: logits,
                                 logitStride: logitStride, out: out, stream: stream)
        } else {
            try sparse(p, idx: idx, idxStride: idxStride, idxHeads: rows, count: k, headMap: nil, out: out, stream: stream)
        }
    }

    /// Whether ``sparseOverScores(_:idx:idxStride:idxHeads:count:logits:logitStride:out:stream:)``
    /// is built for this group (a multiple of 4).
    public var gathersOverScores: Bool { gather.sparseLogitsSplit != nil }

    /// Attention of each query head over `count` positions of `idx [B, idxHeads, idxStride]` (its KV
    /// head's row, or row 0 for every head when `idxHeads == 1`), with the scaled scores read from
    /// `logits [B, G, logitStride, H/G]` instead of recomputed: only values are read. `out [B, H, d]` fp32.
    public func sparseOverScores(_ p: DecodeInputs, idx: UInt64, idxStride: Int, idxHeads: Int, count: Int,
                                 logits: UInt64, logitStride: Int, out: UInt64, stream: CUDAStream) throws(CUDAError) {
        try validate(p)
        guard let fn = gather.sparseLogitsSplit else {
            throw .unsupported("attention over given scores needs a GQA group that is a multiple of 4 (group \(group))")
        }
        guard count > 0, count <= idxStride, idxHeads == 1 || idxHeads == kvHeads else {
            throw .badArgument("sparse attention over \(count) of \(idxStride) indices in \(idxHeads) rows")
        }
        let (splits, chunk) = try gather.plan(gather.sparseSplit, values: true, rows: p.batch * kvHeads, count: count)
        let ws = try workspace(batch: p.batch, splits: splits)
        let (bs, hs) = strides(p)
        try fn.launch(grid: (splits, kvHeads, p.batch), block: AttentionKernelSet.threads, sharedBytes: gather.sharedBytes(values: true),
                      stream: stream,
                      [.pointer(p.v), bs, hs, .pointer(idx), .int64(Int64(idxHeads * idxStride)),
                       .int64(idxHeads == 1 ? 0 : Int64(idxStride)), .int32(Int32(count)), .int32(Int32(chunk)),
                       .pointer(ws.o), .pointer(ws.ml), .int32(Int32(splits)), .pointer(logits), .int64(Int64(logitStride))])
        try combineLaunch(batch: p.batch, splits: splits, ws: ws, withO: true, out: out, lse: nil, stream: stream)
    }
}
