import KascadeCore

/// Checks ``CUDAAttention`` against the CPU policies layer by layer: dense (with several query
/// rows) against `DenseAttention`, and Kascade decode over a 4-layer schedule (anchors 0 and 2,
/// many-to-one head maps) against the core's `KascadeAttention`, on inputs already rounded to the
/// GPU's element type so that both sides see the same numbers.
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
                // Kascade decode over 4 layers.
                let maps = (0..<layers).map { l in l == 0 || l == 2 ? Array(0..<s.g) : (0..<s.g).map { ($0 * 2 + l) % s.g } }
                let schedule = try KascadeSchedule(layers: layers, kvHeads: s.g, anchors: [0, 2], headMaps: maps,
                                                   modelID: "check", devSetID: "random")
                let cpu = KascadeAttention(schedule: schedule)
                let gpu = try CUDAAttention(method: .kascade(schedule, .headAware), dtype: dtype, device: device)
                for l in 0..<layers {
                    let q = rounded(s.h * s.d, 2.5)
                    let c = run(cpu, layer: l, q: q, T: 1, k: ks[l], v: vs[l], geo: geo, n: s.n)
                    let g = run(gpu, layer: l, q: q, T: 1, k: ks[l], v: vs[l], geo: geo, n: s.n)
                    var agreement: Double? = nil
                    if (l == 0 || l == 2), let sel = cpu.anchorSelection, let gi = try gpu.anchorIndices(kvHeads: s.g) {
                        let kk = gi.count / s.g
                        var same = 0
                        for gg in 0..<s.g {
                            let ref = Set(sel.positions(head: gg, row: 0))
                            same += gi[(gg * kk)..<((gg + 1) * kk)].filter { ref.contains($0) }.count
                        }
                        agreement = Double(same) / Double(gi.count)
                    }
                    let err = DecodeCheck.relError(g.out, c.out)
                    let role = l == 0 ? "layer 0" : l == 2 ? "anchor" : "reuse"
                    rows.append(DecodeCheckRow(kernel: "policy kascade \(role) L\(l)", shape: shape, relError: err, agreement: agreement,
                                               hardMismatches: nil, k: nil, passed: g.error == nil && err <= tol && (agreement ?? 1) >= 0.99,
                                               note: g.error ?? ((agreement ?? 1) < 0.99 ? "agreement below 0.99" : "")))
                }
            }
        }
        return rows
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
