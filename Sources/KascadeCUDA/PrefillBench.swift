/// Times the dense causal prefill kernel (T = N, with log-sum-exp) at the paper's shapes on
/// generated inputs, with CUDA events around each run (median after warm-up).
public enum PrefillBench {
    /// Runs over `lengths` x block-shape `variants`; `progress` gets one line per shape.
    public static func run(device: CUDADevice, compiler: KernelCompiler, lengths: [Int], batch: Int = 1,
                           variants: [(warps: Int, mTiles: Int, keys: Int)] = [(4, 1, 64), (4, 2, 32), (4, 2, 64), (8, 2, 32)],
                           queryHeads: Int = 32, kvHeads: Int = 8, headDim: Int = 128, dtype: KVDType = .bf16,
                           progress: (String) -> Void) throws -> PrefillBenchReport {
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
        return PrefillBenchReport(device: device.name, queryHeads: H, kvHeads: G, headDim: d, dtype: dtype, shapes: shapes)
    }
}
