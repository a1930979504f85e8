import KascadeCore

/// Times GPU prefill at the paper's shapes on generated inputs (batch 1, T = N), with CUDA events
/// around each run (median after warm-up): the dense causal kernel (with log-sum-exp) and Kascade
/// prefill (Deshmukh et al., arXiv 2512.16391): each anchor step, a reuse layer over the anchor's own
/// selection, and the measured model-level time `(T_layer0 + 4 T_anchor + 27 T_reuse) / 32`. Where the
/// device builds two kernel families (`wgmma`, `mma.sync`) for a step, both are timed and the step
/// counts at the faster one.
public enum PrefillBench {
    /// Runs over `lengths` x block-shape `variants`; `progress` gets one line per step.
    public static func run(device: CUDADevice, compiler: KernelCompiler, lengths: [Int], batch: Int = 1,
                           variants: [(warps: Int, mTiles: Int, keys: Int)] = [(4, 2, 64)],
                           queryHeads: Int = 32, kvHeads: Int = 8, headDim: Int = 128, dtype: KVDType = .bf16,
                           fraction: Double = 0.1, kMin: Int = 128, scoreLimitBytes: Int = PrefillAnchorPlan.defaultScoreLimit,
                           progress: (String) -> Void) throws -> PrefillBenchReport {
        let fill = try DecodeKernels(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                                     queryHeads: queryHeads, kvHeads: kvHeads)
        let kernels = try variants.map { v throws -> PrefillKernels in
            try PrefillKernels(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                               queryHeads: queryHeads, kvHeads: kvHeads, warps: v.warps, mTiles: v.mTiles, tileKeys: v.keys)
        }
        let anchor = try PrefillAnchorKernels(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                                              queryHeads: queryHeads, kvHeads: kvHeads)
        // The other wgmma score layouts, timed beside the default (all are checked by `kascade check`).
        let others = try AnchorScoresLayout.allCases.filter { $0 != anchor.scoresLayout }.map { layout throws -> PrefillAnchorKernels in
            try PrefillAnchorKernels(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                                     queryHeads: queryHeads, kvHeads: kvHeads, scoresLayout: layout)
        }.filter { $0.variant != anchor.variant && $0.scoresLayout != nil }
        let anchorMma = try PrefillAnchorKernels(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                                                 queryHeads: queryHeads, kvHeads: kvHeads, engine: .mmaSync)
        let reuse = try PrefillReuseKernels(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                                            queryHeads: queryHeads, kvHeads: kvHeads)
        let reuseMma = try PrefillReuseKernels(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                                               queryHeads: queryHeads, kvHeads: kvHeads, engine: .mmaSync)
        let stream = try CUDAStream(device: device)
        let H = queryHeads, G = kvHeads, d = headDim, B = batch
        let budget = try Budget(fraction: fraction, kMin: kMin)
        let maxN = lengths.max() ?? 1
        let qCount = B * H * maxN * d, kvCount = B * G * maxN * d
        let qBuf = try device.allocate(qCount * 2), kBuf = try device.allocate(kvCount * 2), vBuf = try device.allocate(kvCount * 2)
        let out = try device.allocate(qCount * 2), lse = try device.allocate(B * H * maxN * 4)
        try fill.fillRandom(qBuf.address, count: qCount, seed: 11, amp: 2.5, stream: stream)
        try fill.fillRandom(kBuf.address, count: kvCount, seed: 12, amp: 1, stream: stream)
        try fill.fillRandom(vBuf.address, count: kvCount, seed: 13, amp: 1, stream: stream)
        let map = try device.allocate(G * 4)
        try map.upload((0..<G).map { Int32(($0 * 3 + 1) % G) })
        try stream.synchronize()
        progress("anchor kernels \(anchor.variant): scores \(anchor.scoreRegisters) registers; other layouts \(others.map { "\($0.variant) \($0.scoreRegisters)" }.joined(separator: ", ")) registers; mma.sync scores \(anchorMma.scoreRegisters) registers; " +
                 "reuse \(reuse.engine): \(reuse.reuseFn.registers) registers")

        var shapes: [PrefillBenchShape] = []
        var anchors: [PrefillAnchorShape] = []
        for N in lengths {
            let long = N >= 65536
            func time(_ body: (Int) throws -> Void) throws -> (median: Double, min: Double, runs: Int) {
                try DecodeBench.time(stream: stream, device: device, warmup: long ? 1 : 2, runs: long ? 3 : 0, body)
            }
            var best = (ms: Double.infinity, kern: kernels[0])
            for kern in kernels {
                let t = try time { _ in
                    try kern.causal(q: qBuf.address, k: kBuf.address, v: vBuf.address, batch: B, queryCount: N, length: N,
                                    out: out.address, lse: lse.address, stream: stream)
                }
                let f = PrefillKernels.flops(batch: B, queryHeads: H, headDim: d, queryCount: N, length: N)
                let tf = f / (t.median * 1e-3) / 1e12
                shapes.append(PrefillBenchShape(batch: B, length: N, variant: kern.variant, medianMs: t.median, minMs: t.min,
                                                runs: t.runs, flops: f, tflops: tf))
                if t.median < best.ms { best = (t.median, kern) }
                progress("prefill B=\(B) N=\(N) \(kern.variant): \(format3(t.median)) ms (\(format2(tf)) TFLOP/s, \(kern.causalFn.registers) regs)")
            }

            // Kascade: the selection's buffers for this length, the dense log-sum-exp in `lse`.
            let plan = try PrefillAnchorPlan(batch: B, kvHeads: G, queryCount: N, length: N, budget: budget,
                                             scoreLimitBytes: scoreLimitBytes)
            let cap = max(plan.capacity, 1)
            let scores = try device.allocate(plan.scoreBytes)
            let idx = try device.allocate(B * G * plan.rows * cap * 4), counts = try device.allocate(B * G * plan.rows * 4)
            try best.kern.causal(q: qBuf.address, k: kBuf.address, v: vBuf.address, batch: B, queryCount: N, length: N,
                                 out: out.address, lse: lse.address, stream: stream)
            var ms: [String: Double] = ["dense": best.ms]
            func record(_ name: String, _ body: () throws -> Void) throws {
                ms[name] = try time { _ in try body() }.median
            }
            // Each step with both kernel families where they differ (`<step>Wgmma`, `<step>Mma`); the
            // step's time is the faster one (both are checked by `kascade check`).
            var chosen: [String] = []
            func pair(_ name: String, differ: Bool, _ fast: () throws -> Void, _ mma: () throws -> Void) throws {
                guard differ else { try record(name, fast); return }
                try record(name + "Wgmma", fast)
                try record(name + "Mma", mma)
                let w = ms[name + "Wgmma"]!, s = ms[name + "Mma"]!
                ms[name] = min(w, s)
                chosen.append("\(name) \(w <= s ? "wgmma" : "mma.sync") (\(format3(w)) / \(format3(s)))")
            }
            let scoresDiffer = anchor.scoresEngine != anchorMma.scoresEngine, reuseDiffer = reuse.engine != reuseMma.engine
            // Each other layout as `scoresWgmma-<layout>`; the scores step counts at the fastest wgmma layout.
            var otherMs: [String] = []
            for o in others {
                let key = "scoresWgmma-\(o.scoresLayout!)"
                try record(key) {
                    for c in plan.chunks { try o.scores(q: qBuf.address, k: kBuf.address, lse: lse.address, plan: plan, chunk: c,
                                                        scores: scores.address, stream: stream) }
                }
                otherMs.append("\(o.scoresLayout!) \(format3(ms[key]!))")
            }
            try pair("scores", differ: scoresDiffer, {
                for c in plan.chunks { try anchor.scores(q: qBuf.address, k: kBuf.address, lse: lse.address, plan: plan, chunk: c,
                                                         scores: scores.address, stream: stream) }
            }, {
                for c in plan.chunks { try anchorMma.scores(q: qBuf.address, k: kBuf.address, lse: lse.address, plan: plan, chunk: c,
                                                            scores: scores.address, stream: stream) }
            })
            if !others.isEmpty {
                let best = others.map { ms["scoresWgmma-\($0.scoresLayout!)"]! }.min()!
                chosen.append("scores \(anchor.scoresLayout.map { "\($0)" } ?? "-") \(format3(ms["scoresWgmma"] ?? ms["scores"]!)) vs " +
                              otherMs.joined(separator: ", "))
                ms["scores"] = min(ms["scores"]!, best)
            }
            try record("select") {
                for c in plan.chunks { try anchor.rank(plan: plan, chunk: c, scores: scores.address, idx: idx.address,
                                                       counts: counts.address, stream: stream) }
            }
            let fastSelect = !scoresDiffer || ms["scoresWgmma"]! <= ms["scoresMma"]! ? anchor : anchorMma
            try record("selection") {
                try fastSelect.select(q: qBuf.address, k: kBuf.address, lse: lse.address, plan: plan, scores: scores.address,
                                      idx: idx.address, counts: counts.address, stream: stream)
            }
            for (name, hm) in [("sparse", nil), ("reuse", map.address)] as [(String, UInt64?)] {
                try pair(name, differ: reuseDiffer, {
                    try reuse.reuse(q: qBuf.address, k: kBuf.address, v: vBuf.address, batch: B, queryCount: N, length: N,
                                    idx: idx.address, counts: counts.address, idxHeads: G, cap: cap, headMap: hm,
                                    out: out.address, stream: stream)
                }, {
                    try reuseMma.reuse(q: qBuf.address, k: kBuf.address, v: vBuf.address, batch: B, queryCount: N, length: N,
                                       idx: idx.address, counts: counts.address, idxHeads: G, cap: cap, headMap: hm,
                                       out: out.address, stream: stream)
                })
            }
            // `lse` is rewritten with equal values (both passes are checked against the dense kernel's).
            try pair("lse", differ: anchor.lseEngine != anchorMma.lseEngine, {
                try anchor.lse(q: qBuf.address, k: kBuf.address, batch: B, queryCount: N, length: N, lse: lse.address, stream: stream)
            }, {
                try anchorMma.lse(q: qBuf.address, k: kBuf.address, batch: B, queryCount: N, length: N, lse: lse.address, stream: stream)
            })
            let m = { (n: String) in ms[n]! }
            let layer0 = m("dense") + m("scores") + m("select")
            let anchorMs = m("dense") + m("scores") + m("select") + m("sparse")
            let anchorLse = m("lse") + m("scores") + m("select") + m("sparse")
            let model = (layer0 + 4 * anchorMs + 27 * m("reuse")) / 32
            let modelLse = (layer0 + 4 * anchorLse + 27 * m("reuse")) / 32
            let scratch = plan.scoreBytes + B * H * N * 4
            anchors.append(PrefillAnchorShape(length: N, fraction: fraction, kMin: kMin, capacity: plan.capacity,
                                              selectedKeys: plan.selectedKeys, chunks: plan.chunks.count, ms: ms,
                                              layer0Ms: layer0, anchorMs: anchorMs, anchorLsePassMs: anchorLse,
                                              modelLevelMs: model, modelLevelLsePassMs: modelLse,
                                              scratchBytes: scratch, selectionBytes: plan.selectionBytes))
            let picks = chosen.isEmpty ? "" : " [wgmma / mma.sync: " + chosen.joined(separator: ", ") + "]"
            progress("kascade prefill N=\(N) at \(format2(fraction))\(picks): dense \(format3(m("dense"))), lse \(format3(m("lse"))), " +
                     "scores \(format3(m("scores"))), select \(format3(m("select"))) (together \(format3(m("selection")))), " +
                     "sparse \(format3(m("sparse"))), reuse \(format3(m("reuse"))) ms; anchor \(format3(anchorMs)) / " +
                     "\(format3(anchorLse)) (lse pass); model-level \(format3(model)) / \(format3(modelLse)) ms; " +
                     "scratch \(scratch) B in \(plan.chunks.count) chunks, selection \(plan.selectionBytes) B")
        }
        return PrefillBenchReport(device: device.name, queryHeads: H, kvHeads: G, headDim: d, dtype: dtype, shapes: shapes,
                                  anchor: anchors)
    }
}
