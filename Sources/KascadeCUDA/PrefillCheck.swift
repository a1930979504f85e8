#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KascadeCore

/// Checks the dense causal prefill kernels (`mma.sync` and, on Hopper, `wgmma`) against `DenseAttention.compute(..., causal: true)` on
/// fresh random inputs, its log-sum-exp against a float32 CPU sum, and causality (changing keys
/// and values that a row must not see leaves that row's output bit-identical).
public enum PrefillCheck {
    /// Relative error allowed (tensor cores; P and the output rounded to the input type): the 1e-2.
    public static let tolerance = 1e-2
    /// Absolute error allowed on the log-sum-exp (natural log).
    public static let lseTolerance = 1e-3

    /// Odd lengths, batch 2, both head dims and dtypes, GQA groups 1 to 4, chunks (T < N), both
    /// kernel families and the `mma.sync` block sizes. `wgmma` cases run where the device is Hopper.
    public static func grid(small: Bool) -> [PrefillCheckCase] {
        if small {
            return [PrefillCheckCase(.bf16, d: 128, b: 2, h: 4, g: 2, n: 100),
                    PrefillCheckCase(.fp16, d: 64, b: 1, h: 3, g: 1, n: 211, t: 77, warps: 8),
                    PrefillCheckCase(.bf16, d: 128, b: 1, h: 2, g: 1, n: 150, t: 140, mTiles: 2, keys: 32),
                    PrefillCheckCase(.bf16, d: 128, b: 1, h: 2, g: 2, n: 90, mTiles: 2, keys: 64),
                    PrefillCheckCase(.bf16, d: 128, b: 2, h: 4, g: 2, n: 300, t: 290, engine: .wgmma),
                    PrefillCheckCase(.fp16, d: 64, b: 1, h: 2, g: 1, n: 150, engine: .wgmma)]
        }
        var cases: [PrefillCheckCase] = []
        for dtype in KVDType.allCases {
            for d in [64, 128] {
                cases += [PrefillCheckCase(dtype, d: d, b: 2, h: 8, g: 2, n: 100),
                          PrefillCheckCase(dtype, d: d, b: 2, h: 4, g: 1, n: 1000, warps: 8),
                          PrefillCheckCase(dtype, d: d, b: 2, h: 4, g: 2, n: 4099),
                          PrefillCheckCase(dtype, d: d, b: 2, h: 6, g: 2, n: 1000, t: 333, warps: 8),
                          PrefillCheckCase(dtype, d: d, b: 2, h: 4, g: 2, n: 1001, mTiles: 2, keys: 32),
                          PrefillCheckCase(dtype, d: d, b: 2, h: 4, g: 2, n: 999, t: 500, warps: 8, mTiles: 2, keys: 32),
                          PrefillCheckCase(dtype, d: d, b: 2, h: 4, g: 1, n: 1003, mTiles: 2, keys: 64),
                          PrefillCheckCase(dtype, d: d, b: 2, h: 8, g: 2, n: 100, engine: .wgmma),
                          PrefillCheckCase(dtype, d: d, b: 2, h: 4, g: 2, n: 4099, engine: .wgmma),
                          PrefillCheckCase(dtype, d: d, b: 2, h: 6, g: 2, n: 1000, t: 333, engine: .wgmma),
                          PrefillCheckCase(dtype, d: d, b: 1, h: 8, g: 2, n: 1500, t: 1, engine: .wgmma),
                          PrefillCheckCase(dtype, d: d, b: 1, h: 4, g: 1, n: 1280, engine: .wgmma)]
            }
        }
        return cases
    }

    /// Runs the kernel on each case; `progress` gets one line per case.
    public static func run(device: CUDADevice, compiler: KernelCompiler, cases: [PrefillCheckCase], seed: UInt64,
                           progress: (String) -> Void) throws -> [DecodeCheckRow] {
        var rows: [DecodeCheckRow] = []
        var rng = SplitMix(seed: seed ^ 0x5eed_f111)
        let hopper = compiler.architecture == "sm_90a" && device.driver.cuTensorMapEncodeTiled != nil
        for c in cases {
            if c.engine == .wgmma && !hopper {
                progress("check prefill \(c): skipped (the wgmma kernel needs sm_90a)")
                continue
            }
            progress("check prefill \(c)")
            rows += try runCase(c, device: device, compiler: compiler, rng: &rng)
        }
        return rows
    }

    static func runCase(_ c: PrefillCheckCase, device: CUDADevice, compiler: KernelCompiler, rng: inout SplitMix) throws -> [DecodeCheckRow] {
        let geo = try AttentionGeometry(queryHeads: c.queryHeads, kvHeads: c.kvHeads, headDim: c.headDim)
        let kernels = try PrefillKernels(device: device, compiler: compiler, dtype: c.dtype, headDim: c.headDim,
                                         queryHeads: c.queryHeads, kvHeads: c.kvHeads, warps: c.warps,
                                         mTiles: c.mTiles, tileKeys: c.tileKeys, engine: c.engine)
        let stream = try CUDAStream(device: device)
        let B = c.batch, H = c.queryHeads, G = c.kvHeads, T = c.queryCount, N = c.length, d = c.headDim
        let inputs = PrefillHostInputs(geometry: geo, batch: B, queryCount: T, length: N, dtype: c.dtype, rng: &rng)
        let q = inputs.q, k = inputs.k, v = inputs.v
        let qb = try device.allocate(q.bits.count * 2), kb = try device.allocate(k.bits.count * 2), vb = try device.allocate(v.bits.count * 2)
        try qb.upload(q.bits); try kb.upload(k.bits); try vb.upload(v.bits)
        let out = try device.allocate(B * H * T * d * 2), lse = try device.allocate(B * H * T * 4)
        try out.fill(byte: 0xff); try lse.fill(byte: 0xff)
        try kernels.causal(q: qb.address, k: kb.address, v: vb.address, batch: B, queryCount: T, length: N,
                           out: out.address, lse: lse.address, stream: stream)
        try stream.synchronize()
        let gOut = try out.download(UInt16.self, count: B * H * T * d).map { HalfPrecision.value($0, c.dtype) }
        let gLse = try lse.download(Float.self, count: B * H * T)

        // CPU reference: DenseAttention per sequence; log-sum-exp on every 7th row and the last.
        var ref = [Float](repeating: 0, count: B * H * T * d)
        ref.withUnsafeMutableBufferPointer { op in
            inputs.forEachSequence { b, queries, view in
                DenseAttention.compute(queries: queries, queryCount: T, kv: view, output: op.baseAddress! + b * H * T * d)
            }
        }
        let sampled = Array(stride(from: 0, to: T, by: 7)) + [T - 1]
        var lseErr = 0.0
        let lseRows = B * H * sampled.count
        var lseDiff = [Double](repeating: 0, count: lseRows)
        let scale = geo.scale
        lseDiff.withUnsafeMutableBufferPointer { lp in
            let base = lp.baseAddress!
            DispatchQueue.concurrentPerform(iterations: lseRows) { i in
                let b = i / (H * sampled.count), h = (i / sampled.count) % H, t = sampled[i % sampled.count]
                let g = geo.kvHead(ofQueryHead: h)
                let hi = N - T + t
                var m = -Double.infinity
                var s = [Double](repeating: 0, count: hi + 1)
                for n in 0...hi {
                    var acc: Float = 0
                    for x in 0..<d { acc += q.values[((b * H + h) * T + t) * d + x] * k.values[((b * G + g) * N + n) * d + x] }
                    s[n] = Double(acc * scale); m = max(m, s[n])
                }
                var sum = 0.0
                for n in 0...hi { sum += exp(s[n] - m) }
                let refLse = m + log(sum)
                let got = Double(base[i].isNaN ? .nan : gLse[(b * H + h) * T + t])
                base[i] = got.isFinite ? abs(got - refLse) : .infinity
            }
        }
        lseErr = lseDiff.max() ?? 0

        // Causality: new keys and values at positions only the second half of the rows may see.
        let cut = N - T + T / 2 + 1
        var kAlt = k.bits, vAlt = v.bits
        for row in 0..<(B * G) {
            for n in cut..<N { for x in 0..<d {
                kAlt[(row * N + n) * d + x] = HalfPrecision.bits(rng.uniform() * 3, c.dtype)
                vAlt[(row * N + n) * d + x] = HalfPrecision.bits(rng.uniform() * 3, c.dtype)
            } }
        }
        try kb.upload(kAlt); try vb.upload(vAlt)
        try kernels.causal(q: qb.address, k: kb.address, v: vb.address, batch: B, queryCount: T, length: N,
                           out: out.address, lse: lse.address, stream: stream)
        try stream.synchronize()
        let altOut = try out.download(UInt16.self, count: B * H * T * d)
        let firstBits = gOut.map { HalfPrecision.bits($0, c.dtype) }
        var leaks = 0, changedAfter = 0
        for bh in 0..<(B * H) {
            for t in 0..<T {
                let sees = N - T + t >= cut
                var differs = false
                for x in 0..<d where altOut[(bh * T + t) * d + x] != firstBits[(bh * T + t) * d + x] { differs = true; break }
                if differs && !sees { leaks += 1 }
                if differs && sees { changedAfter += 1 }
            }
        }

        let err = DecodeCheck.relError(gOut, ref)
        var ok = err <= tolerance
        var note = ok ? "" : "output error \(err)"
        if !(lseErr <= lseTolerance) { ok = false; note += " lse error \(lseErr)" }
        if leaks > 0 { ok = false; note += " \(leaks) rows changed by keys they must not see" }
        if cut < N, changedAfter == 0 { ok = false; note += " rows that see the changed keys did not change" }
        return [DecodeCheckRow(kernel: "prefill", shape: c.description, relError: err, agreement: nil, hardMismatches: nil,
                               k: nil, passed: ok, note: note + " lse max abs \(formatFixed(lseErr * 1e6, 1))e-6, causal leaks \(leaks)")]
    }
}
