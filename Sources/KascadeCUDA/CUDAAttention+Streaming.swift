// StreamingLLM (Xiao, Tian, Chen, Han, Lewis, ICLR 2024, arXiv 2309.17453; SPEC 2.6) on the GPU:
// attention sinks plus a recent window, through the gather kernel of ``DecodeKernels``.
import KascadeCore

extension CUDAAttention {
    /// Each query row `t` of `q [T, H, d]` reads `readRanges(visible: N - T + t + 1)` of
    /// ``KascadeCore/StreamingLLMAttention`` (the same keys for every head), densely when the budget
    /// covers its prefix; `out [T, H, d]` fp32; `dense` is the keys dense attention would read.
    func attendStreaming(_ kern: DecodeKernels, budget: Budget, sinks: Int, T: Int, N: Int, geometry geo: AttentionGeometry,
                         dense: Double, q: DeviceBuffer, k: DeviceBuffer, v: DeviceBuffer, out: DeviceBuffer) throws {
        let H = geo.queryHeads, d = geo.headDim
        let policy = StreamingLLMAttention(budget: budget, sinks: sinks)
        let maxKeys = budget.keys(outOf: N)
        let idx = try buffer("sidx", bytes: T * maxKeys * 4)
        // Every row's positions at once (row t at t * maxKeys), then one launch per row.
        var rows = [Int32](repeating: 0, count: T * maxKeys)
        var counts = [Int](repeating: 0, count: T)
        for t in 0..<T {
            let (s, w) = policy.readRanges(visible: N - T + t + 1)
            var c = 0
            for n in s { rows[t * maxKeys + c] = Int32(n); c += 1 }
            for n in w { rows[t * maxKeys + c] = Int32(n); c += 1 }
            counts[t] = c
        }
        try idx.upload(rows)
        for t in 0..<T {
            let n = N - T + t + 1
            let p = DecodeInputs(q: q.address(offset: t * H * d * 2), k: k.address, v: v.address, batch: 1, length: n, capacity: N)
            let o = out.address(offset: t * H * d * 4)
            if counts[t] >= n {
                try kern.dense(p, out: o, stream: stream)
            } else {
                try kern.sparse(p, idx: idx.address(offset: t * maxKeys * 4), idxStride: counts[t], idxHeads: 1, count: counts[t],
                                headMap: nil, out: o, stream: stream)
            }
        }
        stats.record(keys: Double(H * counts.reduce(0, +)), dense: dense)
    }
}
