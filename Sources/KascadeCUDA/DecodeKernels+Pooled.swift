// Kascade's pooled variant (Deshmukh et al., arXiv 2512.16391; SPEC 2.2): one index set per layer,
// chosen from the post-softmax probabilities summed over every query head.

extension DecodeKernels {
    /// Probabilities pooled over all `H` query heads, `pooled [B, pooledStride]`, from `logits
    /// [B, G, logitStride, H/G]` and `lse [B, H]`, and their top `k` positions per sequence, ascending,
    /// into `idx [B, idxStride]` int32. `histogram` holds at least `B * 2048` int32 (zeroed here).
    public func selectPooled(batch: Int, length: Int, logits: UInt64, logitStride: Int, lse: UInt64,
                             pooled: UInt64, pooledStride: Int, histogram: UInt64, idx: UInt64, idxStride: Int, k: Int,
                             stream: CUDAStream) throws(CUDAError) {
        guard k > 0, k <= length, idxStride >= k else { throw .badArgument("top-k needs 0 < k <= N and room for k (k=\(k), N=\(length))") }
        guard logitStride % 4 == 0, pooledStride % 4 == 0, logitStride >= length, pooledStride >= length else {
            throw .badArgument("score rows need strides >= N and a multiple of 4 (\(logitStride), \(pooledStride))")
        }
        try stream.memset(histogram, value: 0, bytes: batch * 2048 * 4)
        // Spans of 1024 x iters keys: about four blocks per multiprocessor over the grid, at most 8 x 1024 keys each.
        let perRow = max(1, (4 * device.multiprocessors + batch - 1) / batch)
        let iters = min(8, max(1, (length + 1024 * perRow - 1) / (1024 * perRow)))
        let span = 1024 * iters
        try topk.function("decode_pool_all").launch(
            grid: ((length + span - 1) / span, 1, batch), block: 256, stream: stream,
            [.pointer(logits), .int64(Int64(logitStride)), .pointer(lse), .int32(Int32(kvHeads)), .pointer(pooled),
             .int64(Int64(pooledStride)), .pointer(histogram), .int32(Int32(length)), .int32(Int32(iters))])
        try topk.function("decode_select").launch(
            grid: (1, batch, 1), block: 1024, stream: stream,
            [.pointer(pooled), .int64(Int64(pooledStride)), .pointer(histogram), .pointer(idx), .int64(Int64(idxStride)),
             .int32(Int32(length)), .int32(Int32(k))])
    }
}
