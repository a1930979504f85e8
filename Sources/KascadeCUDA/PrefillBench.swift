/// Times the dense causal prefill kernel (T = N, with log-sum-exp) at the paper's shapes on
/// generated inputs, with CUDA events around each run (median after warm-up).
public enum PrefillBench {
    /// Runs over `lengths` x block-shape `variants`; `progress` gets one line per shape.
    public static func run(device: CUDADevice, compiler: KernelCompiler, lengths: [Int], batch: Int = 1,
                           variants: [(warps: Int, mTiles: Int, keys: Int)] = [(4, 1, 64), (4, 2, 32), (4, 2, 64), (8, 2, 32)],
                           queryHeads: Int = 32, kvHeads: Int = 8, headDim: Int = 128, dtype: KVDType = .bf16,
                           fraction: Double = 0.1, progress: (String) -> Void) throws -> PrefillBenchReport {
        let fill = try DecodeKernels(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                                     queryHeads: queryHeads, kvHeads: kvHeads)
        let kernels = try variants.map { v throws -> PrefillKernels in
            try PrefillKernels(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                               queryHeads: queryHeads, kvHeads: kvHeads, warps: v.warps, mTiles: v.mTiles, tileKeys: v.keys)
        }
        let stream = try CUDAStream(device: device)
        let H = queryHeads, G = kvHeads, d = headDim, B = batch
        let maxN = lengths.max() ?? 1
        let qCount = B * H * maxN * d, kvCount = B * G * maxN * d
        let qBuf = try device.allocate(qCount * 2), kBuf = try device.allocate(kvCount * 2), vBuf = try device.allocate(kvCount * 2)
        let out = try device.allocate(qCount * 2), lse = try device.allocate(B * H * maxN * 4)
        try fill.fillRandom(qBuf.address, count: qCount, seed: 11, amp: 2.5, stream: stream)
        try fill.fillRandom(kBuf.address, count: kvCount, seed: 12, amp: 1, stream: stream)
        try fill.fillRandom(vBuf.address, count: kvCount, seed: 13, amp: 1, stream: stream)
        try stream.synchronize()
        var shapes: [PrefillBenchShape] = []
        for N in lengths {
            for kern in kernels {
                let t = try DecodeBench.time(stream: stream, device: device, warmup: 2, runs: 0) { _ in
                    try kern.causal(q: qBuf.address, k: kBuf.address, v: vBuf.address, batch: B, queryCount: N, length: N,
                                    out: out.address, lse: lse.address, stream: stream)
                }
                let f = PrefillKernels.flops(batch: B, queryHeads: H, headDim: d, queryCount: N, length: N)
                let tf = f / (t.median * 1e-3) / 1e12
                shapes.append(PrefillBenchShape(batch: B, length: N, variant: kern.variant, medianMs: t.median, minMs: t.min,
                                                runs: t.runs, flops: f, tflops: tf))
                progress("prefill B=\(B) N=\(N) \(kern.variant): \(format3(t.median)) ms (\(format2(tf)) TFLOP/s, \(kern.causalFn.registers) regs)")
            }
        }
        // Kascade reuse: per 32-query tile and KV head, fraction of the tile's context, spread evenly.
        let reuse = try PrefillReuseKernels(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                                            queryHeads: queryHeads, kvHeads: kvHeads)
        let map = try device.allocate(G * 4)
        try map.upload((0..<G).map { Int32(($0 * 3 + 1) % G) })
        var reuseShapes: [PrefillReuseShape] = []
        for N in lengths {
            let rows = PrefillReuseKernels.rows(queryCount: N, length: N)
            let cap = max(1, Int(fraction * Double(N)))
            var idxHost = [Int32](repeating: -1, count: G * rows * cap), counts = [Int32](repeating: 0, count: G * rows)
            var selected = 0
            for g in 0..<G {
                for r in 0..<rows {
                    let t0 = r * PrefillReuseKernels.tile
                    let want = min(t0, min(cap, Int(fraction * Double(t0 + PrefillReuseKernels.tile))))
                    counts[g * rows + r] = Int32(want)
                    selected += want
                    for i in 0..<want { idxHost[(g * rows + r) * cap + i] = Int32((i * t0) / want + (g + r) % max(1, t0 / want)) }
                }
            }
            let idx = try device.allocate(idxHost.count * 4), cnt = try device.allocate(counts.count * 4)
            try idx.upload(idxHost); try cnt.upload(counts)
            let t = try DecodeBench.time(stream: stream, device: device, warmup: 3, runs: 0) { _ in
                try reuse.reuse(q: qBuf.address, k: kBuf.address, v: vBuf.address, batch: B, queryCount: N, length: N,
                                idx: idx.address, counts: cnt.address, idxHeads: G, cap: cap, headMap: map.address,
                                out: out.address, stream: stream)
            }
            let dense = shapes.filter { $0.length == N }.map { $0.medianMs }.min() ?? .nan
            let model = (5 * dense + 27 * t.median) / 32
            reuseShapes.append(PrefillReuseShape(length: N, fraction: fraction, selectedKeys: selected, medianMs: t.median, minMs: t.min,
                                                 denseMs: dense, modelLevelEstimateMs: model))
            progress("prefill reuse B=\(B) N=\(N) at \(format2(fraction)): \(format3(t.median)) ms; dense \(format3(dense)) ms; " +
                     "model-level estimate (5 dense + 27 reuse)/32 = \(format3(model)) ms")
        }
        return PrefillBenchReport(device: device.name, queryHeads: H, kvHeads: G, headDim: d, dtype: dtype, shapes: shapes,
                                  reuse: reuseShapes)
    }
}
