import Dispatch
import KascadeCore

/// Checks every decode kernel against the CPU reference on fresh random inputs.
///
/// References: `DenseAttention` (dense, layer 0), the core's `KascadeAnchor.decode` (Kascade
/// selection: GQA-pooled post-softmax scores, exact top-k), `IndexedAttentionRow` (attention over
/// a selection, anchor output and reuse).
public enum DecodeCheck {
    /// Relative error allowed for the CUDA-core kernels: GPU and CPU see identical rounded inputs,
    /// so only float32 order differs.
    public static let tolerance = 2e-3
    /// Relative error allowed for the tensor-core kernels, which round the probabilities to the
    /// input type before the value product (as FlashAttention does): the 1e-2.
    public static let mmaTolerance = 1e-2

    /// The shape grid: odd lengths, batch > 1, both head dims and dtypes, groups 1 to 8, exact ties.
    public static func grid(small: Bool) -> [DecodeCheckCase] {
        if small {
            return [DecodeCheckCase(.bf16, d: 128, b: 2, h: 8, g: 2, n: 333),
                    DecodeCheckCase(.bf16, d: 64, b: 1, h: 9, g: 3, n: 130),
                    DecodeCheckCase(.fp16, d: 128, b: 2, h: 4, g: 4, n: 257, ties: true),
                    DecodeCheckCase(.bf16, d: 128, b: 2, h: 32, g: 8, n: 200, tile: 64, stages: 2),
                    DecodeCheckCase(.bf16, d: 128, b: 2, h: 8, g: 2, n: 333, mma: true),
                    DecodeCheckCase(.fp16, d: 64, b: 1, h: 9, g: 3, n: 130, stages: 3, mma: true),
                    DecodeCheckCase(.bf16, d: 128, b: 2, h: 32, g: 8, n: 333, mma: true, prefetch: false),
                    DecodeCheckCase(.fp16, d: 64, b: 2, h: 8, g: 2, n: 330, ties: true, stages: 3, mma: true, prefetch: false)]
        }
        var cases: [DecodeCheckCase] = []
        for dtype in KVDType.allCases {
            for d in [64, 128] {
                cases += [DecodeCheckCase(dtype, d: d, b: 1, h: 32, g: 8, n: 1000),
                          DecodeCheckCase(dtype, d: d, b: 3, h: 8, g: 2, n: 4099),
                          DecodeCheckCase(dtype, d: d, b: 2, h: 9, g: 3, n: 777),
                          DecodeCheckCase(dtype, d: d, b: 2, h: 4, g: 4, n: 300, ties: true),
                          DecodeCheckCase(dtype, d: d, b: 1, h: 4, g: 4, n: 100),
                          DecodeCheckCase(dtype, d: d, b: 2, h: 16, g: 2, n: 1500)]
            }
            cases.append(DecodeCheckCase(dtype, d: 128, b: 1, h: 32, g: 8, n: 20011))
            for d in [64, 128] {
                cases += [DecodeCheckCase(dtype, d: d, b: 1, h: 32, g: 8, n: 1000, mma: true),
                          DecodeCheckCase(dtype, d: d, b: 3, h: 8, g: 2, n: 4099, mma: true),
                          DecodeCheckCase(dtype, d: d, b: 2, h: 9, g: 3, n: 777, stages: 3, mma: true),
                          DecodeCheckCase(dtype, d: d, b: 2, h: 4, g: 4, n: 300, ties: true, mma: true),
                          DecodeCheckCase(dtype, d: d, b: 1, h: 4, g: 4, n: 100, mma: true),
                          DecodeCheckCase(dtype, d: d, b: 2, h: 16, g: 1, n: 1500, mma: true),
                          DecodeCheckCase(dtype, d: d, b: 2, h: 32, g: 8, n: 2049, stages: 4, mma: true)]
            }
            cases.append(DecodeCheckCase(dtype, d: 128, b: 1, h: 32, g: 8, n: 20011, mma: true))
            for d in [64, 128] {
                cases += [DecodeCheckCase(dtype, d: d, b: 1, h: 32, g: 8, n: 1000, mma: true, prefetch: false),
                          DecodeCheckCase(dtype, d: d, b: 3, h: 8, g: 2, n: 4099, mma: true, prefetch: false),
                          DecodeCheckCase(dtype, d: d, b: 2, h: 4, g: 4, n: 300, ties: true, mma: true, prefetch: false),
                          DecodeCheckCase(dtype, d: d, b: 2, h: 16, g: 1, n: 1500, stages: 3, mma: true, prefetch: false)]
            }
            cases.append(DecodeCheckCase(dtype, d: 128, b: 2, h: 32, g: 8, n: 20011, mma: true, prefetch: false))
            cases += [DecodeCheckCase(dtype, d: 128, b: 3, h: 32, g: 8, n: 3001, tile: 64, stages: 2),
                      DecodeCheckCase(dtype, d: 64, b: 2, h: 9, g: 3, n: 777, tile: 64, stages: 2),
                      DecodeCheckCase(dtype, d: 128, b: 2, h: 4, g: 4, n: 300, ties: true, tile: 64, stages: 2),
                      DecodeCheckCase(dtype, d: 128, b: 2, h: 32, g: 8, n: 2049, tile: 32, stages: 4),
                      DecodeCheckCase(dtype, d: 64, b: 1, h: 8, g: 2, n: 999, tile: 64, stages: 3),
                      DecodeCheckCase(dtype, d: 128, b: 1, h: 32, g: 8, n: 5000, tile: 32, stages: 2)]
        }
        return cases
    }

    /// Selection paths checked on every case besides the automatic one (which, at the grid's small
    /// batches and lengths, runs one block per row, or two at N = 20011, two per multiprocessor):
    /// every other launch the automatic path takes on the benchmark grid.
    static let selectPaths: [DecodeKernels.SelectPath] = [.split, .fused(blocks: 1), .fused(blocks: 2), .fused(blocks: 4),
                                                          .fused(blocks: 4, resident: 2), .fused(blocks: 8, resident: 2)]

    /// Runs every kernel on each case; `progress` gets one line per case.
    public static func run(device: CUDADevice, compiler: KernelCompiler, cases: [DecodeCheckCase], seed: UInt64,
                           progress: (String) -> Void) throws -> [DecodeCheckRow] {
        var rows: [DecodeCheckRow] = []
        var rng = SplitMix(seed: seed)
        for c in cases {
            progress("check \(c)")
            rows += try runCase(c, device: device, compiler: compiler, rng: &rng)
        }
        return rows
    }

    static func runCase(_ c: DecodeCheckCase, device: CUDADevice, compiler: KernelCompiler, rng: inout SplitMix) throws -> [DecodeCheckRow] {
        let geo = try AttentionGeometry(queryHeads: c.queryHeads, kvHeads: c.kvHeads, headDim: c.headDim)
        var variant = DecodeVariant()
        variant.mma = c.mma; variant.tile = c.tile; variant.stages = c.stages; variant.prefetch = c.prefetch
        let kernels = try DecodeKernels(device: device, compiler: compiler, dtype: c.dtype, headDim: c.headDim,
                                        queryHeads: c.queryHeads, kvHeads: c.kvHeads, main: variant, gather: variant)
        let stream = try CUDAStream(device: device)
        let B = c.batch, H = c.queryHeads, G = c.kvHeads, N = c.length, d = c.headDim
        let k = try Budget().keys(outOf: N)
        var qf = (0..<(B * H * d)).map { _ in rng.uniform() * 2.5 }
        var kf = (0..<(B * G * N * d)).map { _ in rng.uniform() }
        let vf = (0..<(B * G * N * d)).map { _ in rng.uniform() }
        if c.ties {
            for row in 0..<(B * G) {
                for n in 37..<N { for i in 0..<d { kf[(row * N + n) * d + i] = kf[(row * N + n % 37) * d + i] } }
            }
        }
        let q = HalfPrecision.round(qf, c.dtype), kr = HalfPrecision.round(kf, c.dtype), vr = HalfPrecision.round(vf, c.dtype)
        qf = q.values
        let qb = try device.allocate(q.bits.count * 2), kb = try device.allocate(kr.bits.count * 2), vb = try device.allocate(vr.bits.count * 2)
        try qb.upload(q.bits); try kb.upload(kr.bits); try vb.upload(vr.bits)
        let inputs = DecodeInputs(q: qb.address, k: kb.address, v: vb.address, batch: B, length: N)
        let stride = (N + 3) / 4 * 4
        let out = try device.allocate(B * H * d * 4), lse = try device.allocate(B * H * 4)
        let logits = try device.allocate(B * H * stride * 4), pooled = try device.allocate(B * G * stride * 4)
        let idx = try device.allocate(B * G * k * 4)

        // CPU references.
        let ref = Reference(q: qf, k: kr.values, v: vr.values, geo: geo, batch: B, length: N, budget: k)
        var rows: [DecodeCheckRow] = []
        let shape = c.description
        let tol = c.mma ? mmaTolerance : tolerance

        // Dense.
        try out.fill(byte: 0xff); try lse.fill(byte: 0xff)
        try kernels.dense(inputs, out: out.address, lse: lse.address, stream: stream)
        try stream.synchronize()
        let dOut = try out.download(Float.self, count: B * H * d)
        let dLse = try lse.download(Float.self, count: B * H)
        let lseErr = relError(dLse, ref.lse)
        rows.append(row("dense", shape, relError(dOut, ref.dense), extraError: lseErr, extraName: "lse", tol: tol))

        // Layer 0: dense output plus the selection.
        try out.fill(byte: 0xff); try idx.fill(byte: 0xff)
        try kernels.dense(inputs, out: out.address, lse: lse.address, logits: logits.address, logitStride: stride, stream: stream)
        try kernels.select(batch: B, length: N, logits: logits.address, logitStride: stride, lse: lse.address,
                           pooled: nil, pooledStride: 0, idx: idx.address, idxStride: k, k: k, stream: stream)
        try stream.synchronize()
        let l0Out = try out.download(Float.self, count: B * H * d)
        let l0Idx = try idx.download(Int32.self, count: B * G * k)
        rows.append(selectionRow("layer0", shape, relError(l0Out, ref.dense), l0Idx, ref: ref, k: k, tol: tol))

        // Anchor: scores and selection (a fused selection computes the log-sum-exp from the scores'
        // split partials), attention over its own set.
        try out.fill(byte: 0xff); try idx.fill(byte: 0xff); try logits.fill(byte: 0xff); try lse.fill(byte: 0xff)
        try kernels.anchor(inputs, logits: logits.address, logitStride: stride, lse: lse.address, idx: idx.address,
                           idxStride: k, k: k, out: out.address, stream: stream)
        try stream.synchronize()
        let aOut = try out.download(Float.self, count: B * H * d)
        let aIdx = try idx.download(Int32.self, count: B * G * k)
        let aLseErr = relError(try lse.download(Float.self, count: B * H), ref.lse)
        let aRef = ref.sparse(indices: aIdx, idxHeads: G, count: k, headMap: Array(0..<G))
        var aRow = selectionRow("anchor", shape, relError(aOut, aRef), aIdx, ref: ref, k: k, tol: tol)
        if !(aLseErr <= tolerance) { aRow.passed = false; aRow.note += " lse error \(aLseErr)" }
        rows.append(aRow)
        if kernels.gathersOverScores {
            // The anchor's output above gathered values only; the same selection with K and V gathered.
            try out.fill(byte: 0xff)
            try kernels.sparse(inputs, idx: idx.address, idxStride: k, idxHeads: G, count: k, headMap: nil, out: out.address, stream: stream)
            try stream.synchronize()
            rows.append(row("anchor.gatherKV", shape, relError(try out.download(Float.self, count: B * H * d), aRef), extraError: nil, extraName: "", tol: tol))
        }

        // Each selection path on the anchor's scores, pooled probabilities written: the same indices
        // as the automatic path above, and the pooled probabilities against the CPU's.
        for path in selectPaths {
            kernels.selectPath = path
            defer { kernels.selectPath = .automatic }
            try idx.fill(byte: 0xff); try pooled.fill(byte: 0xff)
            try kernels.select(batch: B, length: N, logits: logits.address, logitStride: stride, lse: lse.address,
                               pooled: pooled.address, pooledStride: stride, idx: idx.address, idxStride: k, k: k, stream: stream)
            try stream.synchronize()
            let pIdx = try idx.download(Int32.self, count: B * G * k)
            let pPooled = try pooled.download(Float.self, count: B * G * stride)
            let dense = (0..<(B * G * N)).map { pPooled[($0 / N) * stride + $0 % N] }
            var r = selectionRow("select.\(path)", shape, relError(dense, ref.pooled), pIdx, ref: ref, k: k, tol: tol)
            let differ = zip(pIdx, aIdx).filter { $0 != $1 }.count
            if differ > 0 { r.passed = false; r.note += " \(differ) indices differ from the automatic path" }
            rows.append(r)
        }

        // Reuse: random sorted index rows, a many-to-one head map.
        var rIdx = [Int32](repeating: 0, count: B * G * k)
        for r in 0..<(B * G) {
            var chosen = Array(0..<N)
            for i in 0..<k { chosen.swapAt(i, i + Int(rng.next() % UInt64(N - i))) }
            let s = chosen.prefix(k).sorted()
            for i in 0..<k { rIdx[r * k + i] = Int32(s[i]) }
        }
        let map = (0..<G).map { Int32(($0 * 3 + 1) % G) }
        let idxR = try device.allocate(rIdx.count * 4), mapB = try device.allocate(G * 4)
        try idxR.upload(rIdx); try mapB.upload(map)
        try out.fill(byte: 0xff)
        try kernels.sparse(inputs, idx: idxR.address, idxStride: k, idxHeads: G, count: k, headMap: mapB.address, out: out.address, stream: stream)
        try stream.synchronize()
        let rOut = try out.download(Float.self, count: B * H * d)
        let rRef = ref.sparse(indices: rIdx, idxHeads: G, count: k, headMap: map.map { Int($0) })
        rows.append(row("reuse", shape, relError(rOut, rRef), extraError: nil, extraName: "", tol: tol))
        return rows
    }

    static func row(_ kernel: String, _ shape: String, _ err: Double, extraError: Double?, extraName: String, tol: Double) -> DecodeCheckRow {
        var ok = err <= tol
        var note = ok ? "" : "output error \(err)"
        if let e = extraError, !(e <= tolerance) { ok = false; note += " \(extraName) error \(e)" }
        return DecodeCheckRow(kernel: kernel, shape: shape, relError: err, agreement: nil, hardMismatches: nil, k: nil, passed: ok, note: note)
    }

    static func selectionRow(_ kernel: String, _ shape: String, _ err: Double, _ idx: [Int32], ref: Reference, k: Int, tol: Double) -> DecodeCheckRow {
        var r = row(kernel, shape, err, extraError: nil, extraName: "", tol: tol)
        let cmp = ref.compare(idx, k: k)
        r.agreement = cmp.agreement
        r.hardMismatches = cmp.hard
        r.k = k
        if !cmp.valid { r.passed = false; r.note += " invalid index list" }
        if cmp.hard > 0 { r.passed = false; r.note += " \(cmp.hard) non-tie mismatches" }
        return r
    }

    /// `|a - b| / |b|` over whole arrays; infinity when `a` has a NaN.
    static func relError(_ a: [Float], _ b: [Float]) -> Double {
        var num = 0.0, den = 0.0
        for i in 0..<min(a.count, b.count) {
            let x = Double(a[i]), y = Double(b[i])
            if !x.isFinite { return .infinity }
            num += (x - y) * (x - y); den += y * y
        }
        return den > 0 ? (num / den).squareRoot() : num.squareRoot()
    }
}
