import KascadeCore

/// Checks the Kascade prefill anchor (Deshmukh et al., arXiv 2512.16391) against the CPU reference
/// on fresh random inputs: the log-sum-exp pass against the dense kernel's, the per-tile selections
/// against `KascadeAnchor.prefill` (identical except near-ties of the CPU's pooled scores), and the
/// anchor's own output (the reuse kernel over its own selection, identity head map) against
/// `SparseAttention.compute(..., tile: 32)` over the kernel's own selection (which must equal the CPU's
/// except at near-ties). Each case runs every kernel
/// family the device builds (`mma.sync`, and `wgmma` on Hopper) against the same CPU reference.
public enum PrefillAnchorCheck {
    /// Relative error allowed on the output (tensor cores, output in the input type).
    public static let tolerance = 1e-2
    /// Absolute error allowed between the log-sum-exp pass and the dense kernel's (natural log).
    public static let lseTolerance = 1e-4
    /// A GPU pick outside the CPU's set is a near-tie when its CPU score is within this relative
    /// distance of the CPU's k-th score.
    public static let tieTolerance = 1e-4

    /// Odd lengths, batch 1 and 2, chunks (T < N), both head dims and dtypes, groups 4 (both), 8 and 1;
    /// score scratch bounds that force several chunks.
    public static func grid(small: Bool) -> [PrefillAnchorCheckCase] {
        if small {
            return [PrefillAnchorCheckCase(PrefillCheckCase(.bf16, d: 128, b: 2, h: 8, g: 2, n: 300, t: 250),
                                           fraction: 0.1, kMin: 32, scoreLimitBytes: 8 << 10)]
        }
        var cases: [PrefillAnchorCheckCase] = []
        for dtype in KVDType.allCases {
            for d in [64, 128] {
                cases += [PrefillAnchorCheckCase(PrefillCheckCase(dtype, d: d, b: 2, h: 8, g: 2, n: 1001),
                                                 fraction: 0.1, kMin: 128, scoreLimitBytes: 64 << 10),
                          PrefillAnchorCheckCase(PrefillCheckCase(dtype, d: d, b: 1, h: 8, g: 2, n: 2051, t: 1500),
                                                 fraction: 0.05, kMin: 16, scoreLimitBytes: 32 << 10)]
            }
        }
        cases += [PrefillAnchorCheckCase(PrefillCheckCase(.bf16, d: 128, b: 1, h: 8, g: 1, n: 1537),
                                         fraction: 0.1, kMin: 32, scoreLimitBytes: 1 << 30),
                  PrefillAnchorCheckCase(PrefillCheckCase(.bf16, d: 64, b: 1, h: 4, g: 2, n: 777, t: 700),
                                         fraction: 0.1, kMin: 24, scoreLimitBytes: 16 << 10),
                  PrefillAnchorCheckCase(PrefillCheckCase(.fp16, d: 64, b: 2, h: 3, g: 3, n: 333),
                                         fraction: 0.1, kMin: 32, scoreLimitBytes: 16 << 10)]
        return cases
    }

    /// Runs each case; `progress` gets one line per case.
    public static func run(device: CUDADevice, compiler: KernelCompiler, cases: [PrefillAnchorCheckCase], seed: UInt64,
                           progress: (String) -> Void) throws -> [DecodeCheckRow] {
        var rows: [DecodeCheckRow] = []
        var rng = SplitMix(seed: seed ^ 0xa5c4_04a7)
        for c in cases {
            progress("check prefill anchor \(c)")
            rows += try runCase(c, device: device, compiler: compiler, rng: &rng)
        }
        return rows
    }

    static func runCase(_ cc: PrefillAnchorCheckCase, device: CUDADevice, compiler: KernelCompiler,
                        rng: inout SplitMix) throws -> [DecodeCheckRow] {
        let c = cc.layer
        let geo = try AttentionGeometry(queryHeads: c.queryHeads, kvHeads: c.kvHeads, headDim: c.headDim)
        let budget = try Budget(fraction: cc.fraction, kMin: cc.kMin)
        var anchors = [try PrefillAnchorKernels(device: device, compiler: compiler, dtype: c.dtype, headDim: c.headDim,
                                                queryHeads: c.queryHeads, kvHeads: c.kvHeads, engine: .mmaSync)]
        let auto = try PrefillAnchorKernels(device: device, compiler: compiler, dtype: c.dtype, headDim: c.headDim,
                                            queryHeads: c.queryHeads, kvHeads: c.kvHeads)
        if auto.variant != anchors[0].variant { anchors.append(auto) }
        for layout in AnchorScoresLayout.allCases where layout != auto.scoresLayout {
            let other = try PrefillAnchorKernels(device: device, compiler: compiler, dtype: c.dtype, headDim: c.headDim,
                                                 queryHeads: c.queryHeads, kvHeads: c.kvHeads, scoresLayout: layout)
            if !anchors.contains(where: { $0.variant == other.variant }) { anchors.append(other) }
        }
        let dense = try PrefillKernels(device: device, compiler: compiler, dtype: c.dtype, headDim: c.headDim,
                                       queryHeads: c.queryHeads, kvHeads: c.kvHeads)
        let reuse = try PrefillReuseKernels(device: device, compiler: compiler, dtype: c.dtype, headDim: c.headDim,
                                            queryHeads: c.queryHeads, kvHeads: c.kvHeads)
        let stream = try CUDAStream(device: device)
        let B = c.batch, H = c.queryHeads, G = c.kvHeads, T = c.queryCount, N = c.length, d = c.headDim
        let plan = try PrefillAnchorPlan(batch: B, kvHeads: G, queryCount: T, length: N, budget: budget,
                                         scoreLimitBytes: cc.scoreLimitBytes)
        let rowsN = plan.rows, cap = max(plan.capacity, 1)
        let inputs = PrefillHostInputs(geometry: geo, batch: B, queryCount: T, length: N, dtype: c.dtype, rng: &rng)
        let q = inputs.q, k = inputs.k, v = inputs.v
        let qb = try device.allocate(q.bits.count * 2), kb = try device.allocate(k.bits.count * 2), vb = try device.allocate(v.bits.count * 2)
        try qb.upload(q.bits); try kb.upload(k.bits); try vb.upload(v.bits)
        let out = try device.allocate(B * H * T * d * 2)
        let lseDense = try device.allocate(B * H * T * 4), lseOurs = try device.allocate(B * H * T * 4)
        let scores = try device.allocate(plan.scoreBytes)
        let idx = try device.allocate(B * G * rowsN * cap * 4), counts = try device.allocate(B * G * rowsN * 4)
        try dense.causal(q: qb.address, k: kb.address, v: vb.address, batch: B, queryCount: T, length: N,
                         out: out.address, lse: lseDense.address, stream: stream)
        try stream.synchronize()
        let lB = try lseDense.download(Float.self, count: B * H * T)
        // One run per kernel family: output, selection, counts, log-sum-exp error against the dense kernel's.
        var gpu: [(out: [Float], idx: [Int32], counts: [Int32], lseErr: Double)] = []
        for anchor in anchors {
        try lseOurs.fill(byte: 0xff); try idx.fill(byte: 0xff); try counts.fill(byte: 0xff); try scores.fill(byte: 0xff)
        try out.fill(byte: 0xff)
        try anchor.lse(q: qb.address, k: kb.address, batch: B, queryCount: T, length: N, lse: lseOurs.address, stream: stream)
        try anchor.select(q: qb.address, k: kb.address, lse: lseOurs.address, plan: plan, scores: scores.address,
                          idx: idx.address, counts: counts.address, stream: stream)
        try reuse.reuse(q: qb.address, k: kb.address, v: vb.address, batch: B, queryCount: T, length: N,
                        idx: idx.address, counts: counts.address, idxHeads: G, cap: cap, headMap: nil,
                        out: out.address, stream: stream)
        try stream.synchronize()
        let gOut = try out.download(UInt16.self, count: B * H * T * d).map { HalfPrecision.value($0, c.dtype) }
        let gIdx = try idx.download(Int32.self, count: B * G * rowsN * cap)
        let gCounts = try counts.download(Int32.self, count: B * G * rowsN)
        let lA = try lseOurs.download(Float.self, count: B * H * T)
        var lseErr = 0.0
        for i in 0..<(B * H * T) {
            let e = Double(abs(lA[i] - lB[i]))
            lseErr = e.isFinite ? max(lseErr, e) : .infinity
        }
        gpu.append((gOut, gIdx, gCounts, lseErr))
        }

        // CPU: the selection with its pooled scores.
        var cpuScores = [Float](repeating: 0, count: B * G * rowsN * N)
        var sels: [KeySelection] = []
        let ws = AttentionWorkspace()
        cpuScores.withUnsafeMutableBufferPointer { sp in
            inputs.forEachSequence { b, queries, view in
                var sel = KeySelection(heads: G, rows: rowsN, capacity: cap)
                KascadeAnchor.prefill(queries: queries, queryCount: T, kv: view, budget: budget, tile: PrefillAnchorPlan.tile,
                                      pooled: false, into: &sel, workspace: ws,
                                      scores: sp.baseAddress! + b * G * rowsN * N, scoreStride: N)
                sels.append(sel)
            }
        }

        var rows: [DecodeCheckRow] = []
        for (anchor, run) in zip(anchors, gpu) {
            var invalid = 0, hard = 0, sparseRows = 0, countErrors = 0
            var agreement = 0.0
            for b in 0..<B {
                let sel = sels[b]
                for g in 0..<G {
                    for r in 0..<rowsN {
                        let t0 = plan.t0(row: r), want = plan.keys(row: r)
                        let cnt = Int(run.counts[(b * G + g) * rowsN + r])
                        guard cnt == want, cnt == Int(sel.counts[g * rowsN + r]) else { countErrors += 1; continue }
                        let base = ((b * G + g) * rowsN + r) * cap
                        let mine = run.idx[base ..< base + cnt]
                        var prev: Int32 = -1
                        for x in mine {
                            if x <= prev || Int(x) >= t0 { invalid += 1 }
                            prev = x
                        }
                        guard want < t0 else { continue }
                        sparseRows += 1
                        let theirs = Set(sel.positions(head: g, row: r))
                        let srow = ((b * G + g) * rowsN + r) * N
                        let kth = theirs.map { cpuScores[srow + Int($0)] }.min() ?? 0
                        var same = 0
                        for x in mine {
                            if theirs.contains(x) { same += 1; continue }
                            let p = cpuScores[srow + Int(x)]
                            if Double(abs(p - kth)) > tieTolerance * Double(kth) + 1e-7 { hard += 1 }
                        }
                        agreement += Double(same) / Double(want)
                    }
                }
            }
            // The output is checked over the kernel's own selection: where it differs from the CPU's it
            // differs only at near-ties (counted above), and with a small k one swapped key moves the
            // output by more than rounding.
            let err = countErrors > 0 || invalid > 0 ? Double.infinity
                : DecodeCheck.relError(run.out, sparseReference(inputs, rows: rowsN, cap: cap, idx: run.idx, counts: run.counts, workspace: ws))
            var ok = err <= tolerance
            var note = ok ? "" : "output error \(err);"
            if !(run.lseErr <= lseTolerance) { ok = false; note += " lse differs from the dense kernel's by \(run.lseErr);" }
            if countErrors > 0 { ok = false; note += " \(countErrors) rows with a wrong k_t;" }
            if invalid > 0 { ok = false; note += " \(invalid) indices out of order or not before their tile;" }
            if hard > 0 { ok = false; note += " \(hard) non-tie mismatches;" }
            let agree = sparseRows > 0 ? agreement / Double(sparseRows) : 1
            note += " \(anchor.variant); lse vs dense max abs \(formatFixed(run.lseErr * 1e6, 2))e-6, \(plan.chunks.count) chunks, \(sparseRows) ranked rows"
            rows.append(DecodeCheckRow(kernel: "prefill-anchor[\(anchor.variant)]", shape: cc.description, relError: err,
                                       agreement: agree, hardMismatches: hard, k: plan.capacity, passed: ok, note: note))
        }
        return rows
    }

    /// `SparseAttention` (tile 32) over a GPU selection `idx [B, G, rows, cap]`, `counts [B, G, rows]`, on
    /// the rounded inputs' float values: the reference output `[B, H, T, d]` of attention restricted to those keys.
    static func sparseReference(_ inputs: PrefillHostInputs, rows: Int, cap: Int, idx: [Int32], counts: [Int32],
                                workspace: AttentionWorkspace) -> [Float] {
        let G = inputs.geometry.kvHeads, H = inputs.geometry.queryHeads, d = inputs.geometry.headDim, T = inputs.queryCount
        var out = [Float](repeating: 0, count: inputs.batch * H * T * d)
        out.withUnsafeMutableBufferPointer { op in
            inputs.forEachSequence { b, queries, view in
                var sel = KeySelection(heads: G, rows: rows, capacity: cap)
                for g in 0..<G {
                    for r in 0..<rows {
                        let base = ((b * G + g) * rows + r) * cap, n = Int(counts[(b * G + g) * rows + r])
                        sel.set(head: g, row: r, Array(idx[base ..< base + n]))
                    }
                }
                SparseAttention.compute(queries: queries, queryCount: T, kv: view, selection: sel, tile: PrefillAnchorPlan.tile,
                                        output: op.baseAddress! + b * H * T * d, workspace: workspace)
            }
        }
        return out
    }
}
