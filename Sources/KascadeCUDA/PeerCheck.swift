import KascadeCore

/// Checks the Quest, Twilight and vAttention decode kernels against ``PeerReference`` on fresh random
/// inputs: the output against the CPU float32 attention over the GPU's set (relative error), the set
/// against the CPU's own choice (agreement; mismatches that are not near-ties fail), Twilight's kept
/// sets (the CPU's top-p over the GPU's candidate pages, with either estimate kernel) and sizes, and
/// vAttention's `b` and sample (identical sampler on both sides).
public enum PeerCheck {
    /// Relative error allowed (bf16 and fp16 inputs, fp32 accumulation).
    public static let tolerance = 1e-2

    /// Shapes: odd lengths, batch > 1, both head dims and dtypes, groups 1 to 8; `small` for the sanitizer.
    public static func grid(small: Bool) -> [DecodeCheckCase] {
        if small {
            return [DecodeCheckCase(.bf16, d: 128, b: 2, h: 8, g: 2, n: 1333),
                    DecodeCheckCase(.fp16, d: 64, b: 1, h: 9, g: 3, n: 130),
                    DecodeCheckCase(.bf16, d: 128, b: 1, h: 32, g: 8, n: 700)]
        }
        var cases: [DecodeCheckCase] = []
        for dtype in KVDType.allCases {
            for d in [64, 128] {
                cases += [DecodeCheckCase(dtype, d: d, b: 1, h: 32, g: 8, n: 1000),
                          DecodeCheckCase(dtype, d: d, b: 3, h: 8, g: 2, n: 4099),
                          DecodeCheckCase(dtype, d: d, b: 2, h: 9, g: 3, n: 777),
                          DecodeCheckCase(dtype, d: d, b: 2, h: 4, g: 4, n: 300),
                          DecodeCheckCase(dtype, d: d, b: 2, h: 16, g: 1, n: 2500)]
            }
            cases.append(DecodeCheckCase(dtype, d: 128, b: 2, h: 32, g: 8, n: 20011))
        }
        return cases
    }

    /// Runs the three methods on each case; `progress` gets one line per case.
    public static func run(device: CUDADevice, compiler: KernelCompiler, cases: [DecodeCheckCase], seed: UInt64,
                           progress: (String) -> Void) throws -> [DecodeCheckRow] {
        var rows: [DecodeCheckRow] = []
        var rng = SplitMix(seed: seed ^ 0x9ee5)
        for c in cases {
            progress("check peers \(c)")
            rows += try runCase(c, device: device, compiler: compiler, rng: &rng)
        }
        return rows
    }

    static func runCase(_ c: DecodeCheckCase, device: CUDADevice, compiler: KernelCompiler, rng: inout SplitMix) throws -> [DecodeCheckRow] {
        let geo = try AttentionGeometry(queryHeads: c.queryHeads, kvHeads: c.kvHeads, headDim: c.headDim)
        let kern = try PeerDecodeKernels(device: device, compiler: compiler, dtype: c.dtype, headDim: c.headDim,
                                         queryHeads: c.queryHeads, kvHeads: c.kvHeads)
        let stream = try CUDAStream(device: device)
        let B = c.batch, H = c.queryHeads, G = c.kvHeads, N = c.length, d = c.headDim, gs = H / G
        let q = HalfPrecision.round((0..<(B * H * d)).map { _ in rng.uniform() * 2.5 }, c.dtype)
        let kr = HalfPrecision.round((0..<(B * G * N * d)).map { _ in rng.uniform() }, c.dtype)
        let vr = HalfPrecision.round((0..<(B * G * N * d)).map { _ in rng.uniform() }, c.dtype)
        let qb = try device.allocate(q.bits.count * 2), kb = try device.allocate(kr.bits.count * 2), vb = try device.allocate(vr.bits.count * 2)
        try qb.upload(q.bits); try kb.upload(kr.bits); try vb.upload(vr.bits)
        let inputs = DecodeInputs(q: qb.address, k: kb.address, v: vb.address, batch: B, length: N)
        let pages = (N + 15) / 16
        let pb = QuestPagesView.bytes(batch: B, kvHeads: G, pageCapacity: pages, headDim: d)
        let pmin = try device.allocate(pb), pmax = try device.allocate(pb)
        let pv = QuestPagesView(min: pmin.address, max: pmax.address, pageCapacity: pages)
        let ib = Int4KeysView.bytes(batch: B, kvHeads: G, capacity: N, headDim: d)
        let codes = try device.allocate(ib.codes), scales = try device.allocate(ib.perToken), zeros = try device.allocate(ib.perToken)
        let iv = Int4KeysView(codes: codes.address, scales: scales.address, zeros: zeros.address, capacity: N)
        let out = try device.allocate(B * H * d * 4), counts = try device.allocate(B * H * 4)
        // Page bounds and the 4-bit copy: built over the first N - 5 positions, then appended.
        let head = DecodeInputs(q: qb.address, k: kb.address, v: vb.address, batch: B, length: max(1, N - 5), capacity: N)
        try kern.buildPages(head, pages: pv, stream: stream)
        try kern.quantize(head, keys: iv, from: 0, stream: stream)
        if N > 1 {
            try kern.appendPages(DecodeInputs(q: qb.address, k: kb.address, v: vb.address, batch: B, length: N), pages: pv,
                                 from: max(1, N - 5), stream: stream)
            try kern.quantize(inputs, keys: iv, from: max(1, N - 5), stream: stream)
        }
        let shape = c.description
        var rows: [DecodeCheckRow] = []
        func views(_ b: Int, _ body: (UnsafePointer<Float>, KVCacheView) -> Void) {
            kr.values.withUnsafeBufferPointer { kp in
                vr.values.withUnsafeBufferPointer { vp in
                    q.values.withUnsafeBufferPointer { qp in
                        body(qp.baseAddress! + b * H * d, KVCacheView(keys: kp.baseAddress! + b * G * N * d, values: vp.baseAddress! + b * G * N * d,
                                                                     length: N, capacity: N, geometry: geo))
                    }
                }
            }
        }
        func maskSet(_ words: [UInt32], _ b: Int, _ h: Int, stride: Int, bit: Int) -> [Int32] {
            let g = h / gs, base = (b * G + g) * stride
            return (0..<stride).filter { words[base + $0] >> UInt32(bit) & 1 == 1 }.map { Int32($0) }
        }

        // Quest: the default path (one selection kernel, tensor-core attention over the page list), the
        // CUDA-core attention, and the step-by-step selection.
        let keep = QuestAttention().pagesToKeep(contextLength: N)
        for (name, fused, tensorCores) in [("quest", true, true), ("quest cuda-cores", true, false), ("quest step-by-step", false, false)] {
            kern.fusedSelection = fused
            kern.tensorCoreAttention = tensorCores
            defer { kern.fusedSelection = true; kern.tensorCoreAttention = true }
            try out.fill(byte: 0xff)
            try kern.existing("pageMask")?.fill(byte: 0xff)
            try kern.quest(inputs, pages: pv, keep: keep, out: out.address, stream: stream)
            try stream.synchronize()
            let qOut = try out.download(Float.self, count: B * H * d)
            let qMask = try kern.existing("pageMask")!.download(UInt32.self, count: B * G * pages)
            var ref = [Float](repeating: 0, count: B * H * d)
            var tally = SetTally()
            for b in 0..<B {
                views(b) { qp, kv in
                    let cpu = PeerReference.questPages(q: qp, kv: kv, keep: keep)
                    for h in 0..<H {
                        let gpu = maskSet(qMask, b, h, stride: pages, bit: h % gs)
                        tally.pages(gpu: gpu, cpu: cpu.pages[h], scores: cpu.scores[h], pages: pages)
                        let pos = gpu.flatMap { p in (Int(p) * 16..<min(N, Int(p) * 16 + 16)).map { Int32($0) } }
                        ref.replaceSubrange((b * H + h) * d..<(b * H + h + 1) * d, with: PeerReference.attend(q: qp, kv: kv, head: h, positions: pos))
                    }
                }
            }
            rows.append(tally.row(name, shape, DecodeCheck.relError(qOut, ref), k: min(N, keep * 16),
                                  note: "\(keep) pages of \(pages)"))
        }

        // Twilight.
        let tw = TwilightAttention()
        let b0 = tw.candidateBudget(contextLength: N)
        let keep0 = min(pages, max(1, (b0 + 15) / 16))
        // The CPU's side per sequence, shared by both estimate paths: its Quest candidates, and its
        // top-p over the GPU's candidates (recomputed only where those differ between the paths).
        var cpuCandidates: [Int: (pages: [[Int32]], scores: [[Float]])] = [:]
        var cpuPruned: [Int: (gpuPages: [[Int32]], pruned: [PeerReference.TwilightHead])] = [:]
        // The estimate on tensor cores (default) and on CUDA cores.
        for (name, tensorCores) in [("twilight", true), ("twilight cuda-core estimate", false)] {
            kern.tensorCoreEstimate = tensorCores
            defer { kern.tensorCoreEstimate = true }
            try out.fill(byte: 0xff)
            try kern.twilight(inputs, pages: pv, keys: iv, keep: keep0, topP: tw.topP, out: out.address, kept: counts.address, stream: stream)
            try stream.synchronize()
            let tOut = try out.download(Float.self, count: B * H * d)
            let tCounts = try counts.download(Int32.self, count: B * H)
            let tPages = try kern.existing("pageMask")!.download(UInt32.self, count: B * G * pages)
            let tKept = try kern.existing("keptMask")!.download(UInt32.self, count: B * G * N)
            var ref = [Float](repeating: 0, count: B * H * d)
            var tally = SetTally()
            var cpuKept = 0, countMismatch = 0, otherCandidates = 0
            for b in 0..<B {
                views(b) { qp, kv in
                    let cpuPages = cpuCandidates[b] ?? PeerReference.questPages(q: qp, kv: kv, keep: keep0)
                    cpuCandidates[b] = cpuPages
                    let gpuPages = (0..<H).map { maskSet(tPages, b, $0, stride: pages, bit: $0 % gs) }
                    // The top-p step is checked on the GPU's candidates: a near-tie page only one side
                    // took (forgiven by the page comparison) changes the candidates' total mass, and
                    // so the threshold, which would move keys far from either side's threshold.
                    let pruned: [PeerReference.TwilightHead]
                    if let known = cpuPruned[b], known.gpuPages == gpuPages { pruned = known.pruned } else {
                        let cand = gpuPages.map { $0.flatMap { p in (Int(p) * 16..<min(N, Int(p) * 16 + 16)).map { Int32($0) } } }
                        pruned = PeerReference.twilightKept(q: qp, kv: kv, candidates: cand, topP: tw.topP)
                        cpuPruned[b] = (gpuPages, pruned)
                    }
                    for h in 0..<H {
                        if !tally.pages(gpu: gpuPages[h], cpu: cpuPages.pages[h], scores: cpuPages.scores[h], pages: pages, countOnly: true) {
                            otherCandidates += 1
                        }
                        // Kept bits are defined on the group's candidate pages only.
                        let groupBits = UInt32((1 << gs) - 1), row = (b * G + h / gs) * pages
                        let kept = maskSet(tKept, b, h, stride: N, bit: h % gs).filter { tPages[row + Int($0) / 16] & groupBits != 0 }
                        if kept.count != Int(tCounts[b * H + h]) { countMismatch += 1 }
                        cpuKept += pruned[h].kept.count
                        tally.kept(gpu: kept, cpu: pruned[h], topP: tw.topP)
                        ref.replaceSubrange((b * H + h) * d..<(b * H + h + 1) * d, with: PeerReference.attend(q: qp, kv: kv, head: h, positions: kept))
                    }
                }
            }
            let meanKept = Double(tCounts.reduce(0) { $0 + Int($1) }) / Double(B * H)
            var r = tally.row(name, shape, DecodeCheck.relError(tOut, ref), k: Int(meanKept.rounded()),
                              note: "kept mean \(formatFixed(meanKept, 1)) (CPU \(formatFixed(Double(cpuKept) / Double(B * H), 1))) of \(min(N, keep0 * 16)) candidates"
                                    + (otherCandidates > 0 ? "; candidate pages differ (near-ties) on \(otherCandidates) heads" : ""))
            if countMismatch > 0 { r.passed = false; r.note += "; \(countMismatch) kept counts disagree with the mask" }
            rows.append(r)
        }

        // vAttention: the default bound (on these flat inputs b is often all of n_s) and a loose one
        // (b < n_s: the sample is a strict subset).
        for epsilon in [0.05, 0.25] {
            let cfg = VAttentionGPUConfig(epsilon: epsilon, seed: rng.next(), layer: 3)
            let s = min(cfg.sinks, N), wStart = max(s, N - cfg.window)
            let kTop = try Budget().keys(outOf: N)
            try out.fill(byte: 0xff)
            try kern.vattention(inputs, config: cfg, topK: kTop, out: out.address, sampleSizes: counts.address, stream: stream)
            try stream.synchronize()
            let vOut = try out.download(Float.self, count: B * H * d)
            let vB = try counts.download(Int32.self, count: B * H)
            let vMask = try kern.existing("tokenMask")!.download(UInt32.self, count: B * G * N)
            do {
                var ref = [Float](repeating: 0, count: B * H * d)
                var tally = SetTally()
                var bDiff = 0, sampleMismatch = 0, cpuB = 0, cpuResidual = 0
                for b in 0..<B {
                    views(b) { qp, kv in
                        for h in 0..<H {
                            let det = maskSet(vMask, b, h, stride: N, bit: h % gs)
                            let sample = maskSet(vMask, b, h, stride: N, bit: 16 + h % gs)
                            let cpuTop = PeerReference.vattentionTopK(q: qp, kv: kv, head: h, sinks: s, windowStart: wStart, k: kTop)
                            let gpuTop = det.filter { Int($0) >= s && Int($0) < wStart }
                            tally.topK(gpu: gpuTop, cpu: cpuTop.top, scores: cpuTop.scores, offset: s, fixed: det.count - gpuTop.count,
                                       expectedFixed: s + (N - wStart))
                            let e = PeerReference.vattentionEstimate(q: qp, kv: kv, head: h, deterministic: det, sinks: s, windowStart: wStart,
                                                                     epsilon: cfg.epsilon, delta: cfg.delta, seed: cfg.seed, layer: cfg.layer)
                            cpuB += e.b
                            cpuResidual += e.residual
                            let gb = Int(vB[b * H + h])
                            if abs(gb - e.b) > max(1, e.b / 100) { bDiff += 1 }
                            if gb == e.b && sample != e.sample { sampleMismatch += 1 }
                            if sample.count != gb { sampleMismatch += 1 }
                            ref.replaceSubrange((b * H + h) * d..<(b * H + h + 1) * d, with: e.out)
                        }
                    }
                }
                let meanB = Double(vB.reduce(0) { $0 + Int($1) }) / Double(B * H)
                var r = tally.row(epsilon == 0.05 ? "vattention" : "vattention eps=\(epsilon)", shape, DecodeCheck.relError(vOut, ref), k: Int(meanB.rounded()),
                                  note: "b mean \(formatFixed(meanB, 1)) (CPU \(formatFixed(Double(cpuB) / Double(B * H), 1))), top-k \(min(kTop, wStart - s))")
                if bDiff > 0 { r.passed = false; r.note += "; \(bDiff) heads' b differ from the CPU's" }
                if sampleMismatch > 0 { r.passed = false; r.note += "; \(sampleMismatch) samples differ from the CPU's" }
                r.note += ", n_s \(formatFixed(Double(cpuResidual) / Double(B * H), 1))"
                rows.append(r)
            }
        }
        return rows
    }
}
