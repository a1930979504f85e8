import KascadeCore

/// Checks the Kascade prefill reuse kernel against `SparseAttention.compute(..., tile: 32)` on fresh
/// random inputs and random per-tile selections read through a many-to-one head map; each case runs
/// every kernel family the device builds (`mma.sync`, and `wgmma` on Hopper for groups 2 and 4).
public enum PrefillReuseCheck {
    /// Relative error allowed (tensor cores, output in the input type): the 1e-2.
    public static let tolerance = 1e-2

    /// Shapes: odd lengths, chunks (T < N), both head dims and dtypes, groups 1, 2, 3, 4 and 8.
    public static func grid(small: Bool) -> [PrefillCheckCase] {
        if small { return [PrefillCheckCase(.bf16, d: 128, b: 2, h: 8, g: 2, n: 150, t: 100)] }
        var cases: [PrefillCheckCase] = []
        for dtype in KVDType.allCases {
            for d in [64, 128] {
                cases += [PrefillCheckCase(dtype, d: d, b: 2, h: 8, g: 2, n: 1000),
                          PrefillCheckCase(dtype, d: d, b: 2, h: 8, g: 1, n: 2051, t: 1500),
                          PrefillCheckCase(dtype, d: d, b: 1, h: 3, g: 3, n: 100)]
            }
        }
        // Lists of up to 8 key tiles of 128 (the wgmma kernel's copy pipeline in full).
        cases += [PrefillCheckCase(.bf16, d: 128, b: 1, h: 4, g: 2, n: 777, t: 700),
                  PrefillCheckCase(.fp16, d: 64, b: 2, h: 6, g: 2, n: 1100, t: 1100),
                  PrefillCheckCase(.bf16, d: 128, b: 1, h: 8, g: 2, n: 9000, t: 3000),
                  PrefillCheckCase(.fp16, d: 64, b: 1, h: 4, g: 2, n: 5000, t: 5000)]
        return cases
    }

    /// Runs the kernel on each case with a selection of `fraction` of each tile's context.
    public static func run(device: CUDADevice, compiler: KernelCompiler, cases: [PrefillCheckCase], seed: UInt64,
                           fraction: Double = 0.1, progress: (String) -> Void) throws -> [DecodeCheckRow] {
        var rows: [DecodeCheckRow] = []
        var rng = SplitMix(seed: seed ^ 0x7e05e)
        for c in cases {
            progress("check prefill reuse \(c)")
            rows += try runCase(c, device: device, compiler: compiler, fraction: fraction, rng: &rng)
        }
        return rows
    }

    static func runCase(_ c: PrefillCheckCase, device: CUDADevice, compiler: KernelCompiler, fraction: Double,
                        rng: inout SplitMix) throws -> [DecodeCheckRow] {
        let geo = try AttentionGeometry(queryHeads: c.queryHeads, kvHeads: c.kvHeads, headDim: c.headDim)
        var families = [try PrefillReuseKernels(device: device, compiler: compiler, dtype: c.dtype, headDim: c.headDim,
                                                queryHeads: c.queryHeads, kvHeads: c.kvHeads, engine: .mmaSync)]
        let auto = try PrefillReuseKernels(device: device, compiler: compiler, dtype: c.dtype, headDim: c.headDim,
                                           queryHeads: c.queryHeads, kvHeads: c.kvHeads)
        if auto.engine != .mmaSync { families.append(auto) }
        let stream = try CUDAStream(device: device)
        let B = c.batch, H = c.queryHeads, G = c.kvHeads, T = c.queryCount, N = c.length, d = c.headDim
        let tile = PrefillReuseKernels.tile
        let rowsN = SparseAttention.tileRows(queryCount: T, length: N, tile: tile)
        let first = (N - T) / tile
        let cap = max(1, Int(fraction * Double(N)))
        let inputs = PrefillHostInputs(geometry: geo, batch: B, queryCount: T, length: N, dtype: c.dtype, rng: &rng)
        let q = inputs.q, k = inputs.k, v = inputs.v
        var selections: [KeySelection] = []
        for _ in 0..<B {
            var sel = KeySelection(heads: G, rows: rowsN, capacity: cap)
            for h in 0..<G {
                for row in 0..<rowsN {
                    let t0 = (first + row) * tile
                    let want = min(t0, min(cap, Int(fraction * Double(t0 + tile))))
                    var pool = Array(0..<t0)
                    for i in 0..<want { pool.swapAt(i, i + Int(rng.next() % UInt64(t0 - i))) }
                    sel.set(head: h, row: row, pool.prefix(want).map { Int32($0) })
                }
            }
            selections.append(sel)
        }
        let map = (0..<G).map { ($0 * 3 + 1) % G }
        let qb = try device.allocate(q.bits.count * 2), kb = try device.allocate(k.bits.count * 2), vb = try device.allocate(v.bits.count * 2)
        try qb.upload(q.bits); try kb.upload(k.bits); try vb.upload(v.bits)
        let idx = try device.allocate(B * G * rowsN * cap * 4), counts = try device.allocate(B * G * rowsN * 4)
        try idx.upload(selections.flatMap { $0.indices }); try counts.upload(selections.flatMap { $0.counts })
        let mapB = try device.allocate(G * 4)
        try mapB.upload(map.map { Int32($0) })
        let out = try device.allocate(B * H * T * d * 2)
        var outputs: [[Float]] = []
        for kernels in families {
            try out.fill(byte: 0xff)
            try kernels.reuse(q: qb.address, k: kb.address, v: vb.address, batch: B, queryCount: T, length: N,
                              idx: idx.address, counts: counts.address, idxHeads: G, cap: cap, headMap: mapB.address,
                              out: out.address, stream: stream)
            try stream.synchronize()
            outputs.append(try out.download(UInt16.self, count: B * H * T * d).map { HalfPrecision.value($0, c.dtype) })
        }

        var ref = [Float](repeating: 0, count: B * H * T * d)
        let ws = AttentionWorkspace()
        ref.withUnsafeMutableBufferPointer { op in
            inputs.forEachSequence { b, queries, view in
                SparseAttention.compute(queries: queries, queryCount: T, kv: view, selection: selections[b], headMap: map,
                                        tile: tile, output: op.baseAddress! + b * H * T * d, workspace: ws)
            }
        }
        return zip(families, outputs).map { kernels, got in
            let err = DecodeCheck.relError(got, ref)
            let ok = err <= tolerance
            return DecodeCheckRow(kernel: "prefill-reuse-\(kernels.engine)", shape: "\(c.dtype) d=\(d) B=\(B) H=\(H) G=\(G) T=\(T) N=\(N) tile 32 k<=\(cap)",
                                  relError: err, agreement: nil, hardMismatches: nil, k: cap, passed: ok, note: ok ? "" : "output error \(err)")
        }
    }
}
