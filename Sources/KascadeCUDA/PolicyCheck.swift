import KascadeCore

/// Checks ``CUDAAttention`` against the CPU policies layer by layer, on inputs already rounded to the
/// GPU's element type so that both sides see the same numbers: dense (with several query rows)
/// against `DenseAttention`; Kascade over a 4-layer schedule (anchors 0 and 2, many-to-one head
/// maps) against the core's `KascadeAttention` in decode (head-aware, pooled, no-remap) and in
/// prefill chunks (selections and keys read against the CPU's; outputs against the CPU's sparse
/// attention over the GPU's selection, as in ``PrefillAnchorCheck``); StreamingLLM against
/// `StreamingLLMAttention`.
public enum PolicyCheck {
    /// One row per (policy, shape, layer).
    public static func run(device: CUDADevice, seed: UInt64, small: Bool) throws -> [DecodeCheckRow] {
        var rng = SplitMix(seed: seed ^ 0x5eed)
        var rows: [DecodeCheckRow] = []
        let shapes: [(h: Int, g: Int, d: Int, n: Int)] = small ? [(9, 3, 64, 300)] : [(9, 3, 64, 777), (32, 8, 128, 3001)]
        for dtype in small ? [KVDType.fp16] : KVDType.allCases {
            for s in shapes {
                let geo = try AttentionGeometry(queryHeads: s.h, kvHeads: s.g, headDim: s.d)
                let layers = 4
                func rounded(_ n: Int, _ amp: Float) -> [Float] {
                    HalfPrecision.round((0..<n).map { _ in rng.uniform() * amp }, dtype).values
                }
                let ks = (0..<layers).map { _ in rounded(s.g * s.n * s.d, 1) }
                let vs = (0..<layers).map { _ in rounded(s.g * s.n * s.d, 1) }
                let shape = "\(dtype) d=\(s.d) H=\(s.h) G=\(s.g) N=\(s.n)"
                let tol = DecodeCheck.mmaTolerance
                // Dense with T = 5 query rows (causal).
                let T = 5
                let qd = rounded(s.h * T * s.d, 2.5)
                let gpuDense = try CUDAAttention(method: .dense, dtype: dtype, device: device)
                let cpuOut = run(DenseAttention(), layer: 0, q: qd, T: T, k: ks[0], v: vs[0], geo: geo, n: s.n)
                let gpuOut = run(gpuDense, layer: 0, q: qd, T: T, k: ks[0], v: vs[0], geo: geo, n: s.n)
                let e = DecodeCheck.relError(gpuOut.out, cpuOut.out)
                rows.append(DecodeCheckRow(kernel: "policy dense T=5", shape: shape, relError: e, agreement: nil, hardMismatches: nil,
                                           k: nil, passed: gpuOut.error == nil && e <= tol, note: gpuOut.error ?? ""))
                // Kascade over 4 layers: decode in every variant, prefill chunks head-aware and no-remap.
                let maps = (0..<layers).map { l in l == 0 || l == 2 ? Array(0..<s.g) : (0..<s.g).map { ($0 * 2 + l) % s.g } }
                let schedule = try KascadeSchedule(layers: layers, kvHeads: s.g, anchors: [0, 2], headMaps: maps,
                                                   modelID: "check", devSetID: "random")
                let runs: [(KascadeVariant, Int)] = small ? [(.headAware, 1), (.pooled, 1), (.headAware, 70), (.pooled, 70)]
                    : [(.headAware, 1), (.pooled, 1), (.noRemap, 1), (.headAware, 70), (.noRemap, 45), (.pooled, 70)]
                for (variant, queries) in runs {
                    let cpu = KascadeAttention(schedule: schedule, variant: variant)
                    let gpu = try CUDAAttention(method: .kascade(schedule, variant), dtype: dtype, device: device)
                    for l in 0..<layers {
                        let q = rounded(s.h * queries * s.d, 2.5)
                        let c = run(cpu, layer: l, q: q, T: queries, k: ks[l], v: vs[l], geo: geo, n: s.n)
                        let g = run(gpu, layer: l, q: q, T: queries, k: ks[l], v: vs[l], geo: geo, n: s.n)
                        var agreement: Double? = nil
                        if l == 0 || l == 2, let sel = cpu.anchorSelection, let gs = try gpu.anchorSelection() {
                            agreement = Self.agreement(gs, sel)
                        }
                        var err = DecodeCheck.relError(g.out, c.out)
                        if queries > 1 && l != 0, let gs = try gpu.anchorSelection() {
                            // Prefill: against the CPU's sparse attention over the GPU's own selection (which
                            // must agree with the CPU's), so a near-tie swap of one key does not count as
                            // an output error; the selections are compared above.
                            let map = l == 2 || variant == .noRemap ? Array(0..<s.g) : schedule.headMaps[l]
                            err = DecodeCheck.relError(g.out, sparse(q: q, T: queries, k: ks[l], v: vs[l], geo: geo, n: s.n,
                                                                     selection: gs, map: map))
                        }
                        let role = l == 0 ? "layer 0" : l == 2 ? "anchor" : "reuse"
                        let readOK = abs(gpu.stats.keysRead - cpu.stats.keysRead) <= 1e-9 * max(1, cpu.stats.keysRead)
                        var note = g.error ?? ((agreement ?? 1) < 0.99 ? "agreement below 0.99" : "")
                        if note.isEmpty && !readOK { note = "keys read \(gpu.stats.keysRead), CPU \(cpu.stats.keysRead)" }
                        rows.append(DecodeCheckRow(kernel: "policy kascade \(variant) T=\(queries) \(role) L\(l)", shape: shape,
                                                   relError: err, agreement: agreement, hardMismatches: nil, k: nil,
                                                   passed: note.isEmpty && err <= tol, note: note))
                    }
                }
                // StreamingLLM: a decode step and a causal block of 5 rows.
                for queries in [1, 5] {
                    let budget = try Budget(fraction: 0.1, kMin: 64)
                    let cpu = StreamingLLMAttention(budget: budget)
                    let gpu = try CUDAAttention(method: .streaming(budget, sinks: cpu.sinks), dtype: dtype, device: device)
                    let q = rounded(s.h * queries * s.d, 2.5)
                    let c = run(cpu, layer: 2, q: q, T: queries, k: ks[1], v: vs[1], geo: geo, n: s.n)
                    let g = run(gpu, layer: 2, q: q, T: queries, k: ks[1], v: vs[1], geo: geo, n: s.n)
                    let err = DecodeCheck.relError(g.out, c.out)
                    let readOK = gpu.stats.keysRead == cpu.stats.keysRead
                    let note = g.error ?? (readOK ? "" : "keys read \(gpu.stats.keysRead), CPU \(cpu.stats.keysRead)")
                    rows.append(DecodeCheckRow(kernel: "policy streaming T=\(queries)", shape: shape, relError: err, agreement: nil,
                                               hardMismatches: nil, k: budget.keys(outOf: s.n), passed: note.isEmpty && err <= tol, note: note))
                }
            }
        }
        return rows
    }

    /// Mean fraction of each (head, row) of the CPU's selection that the GPU's also holds.
    static func agreement(_ gpu: KeySelection, _ cpu: KeySelection) -> Double {
        guard gpu.heads == cpu.heads, gpu.rows == cpu.rows else { return 0 }
        var same = 0, total = 0
        for h in 0..<cpu.heads {
            for r in 0..<cpu.rows {
                let ref = Set(cpu.positions(head: h, row: r))
                total += ref.count
                same += gpu.positions(head: h, row: r).filter { ref.contains($0) }.count
            }
        }
        return total == 0 ? 1 : Double(same) / Double(total)
    }

    /// `SparseAttention` with tiles of 32 over `selection` through `map`: `q [H, T, d]`, `k, v [G, n, d]`.
    static func sparse(q: [Float], T: Int, k: [Float], v: [Float], geo: AttentionGeometry, n: Int,
                       selection: KeySelection, map: [Int]) -> [Float] {
        var out = [Float](repeating: .nan, count: geo.queryHeads * T * geo.headDim)
        k.withUnsafeBufferPointer { kp in
            v.withUnsafeBufferPointer { vp in
                let view = KVCacheView(keys: kp.baseAddress!, values: vp.baseAddress!, length: n, capacity: n, geometry: geo)
                SparseAttention.compute(queries: q, queryCount: T, kv: view, selection: selection, headMap: map,
                                        tile: PrefillAnchorPlan.tile, output: &out, workspace: AttentionWorkspace())
            }
        }
        return out
    }

    /// Runs one layer of `policy` on host tensors `q [H, T, d]`, `k, v [G, n, d]`.
    static func run(_ policy: AttentionPolicy, layer: Int, q: [Float], T: Int, k: [Float], v: [Float],
                    geo: AttentionGeometry, n: Int) -> (out: [Float], error: String?) {
        var out = [Float](repeating: .nan, count: geo.queryHeads * T * geo.headDim)
        var failure: String? = nil
        k.withUnsafeBufferPointer { kp in
            v.withUnsafeBufferPointer { vp in
                q.withUnsafeBufferPointer { qp in
                    out.withUnsafeMutableBufferPointer { op in
                        let view = KVCacheView(keys: kp.baseAddress!, values: vp.baseAddress!, length: n, capacity: n, geometry: geo)
                        do { try policy.attend(layer: layer, queries: qp.baseAddress!, queryCount: T, kv: view, output: op.baseAddress!) }
                        catch { failure = "\(error)" }
                    }
                }
            }
        }
        return (out, failure)
    }
}
