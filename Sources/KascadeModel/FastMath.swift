/// Elementwise float32 functions written so the compiler vectorises their loops.
enum FastMath {
    /// `e^x` with relative error below 2e-7 on `[-87, 88]` (Cephes polynomial, range-reduced by ln 2);
    /// inputs are clamped to that range.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let xc = min(max(x, -87.0), 88.0)
        let t = xc * 1.442_695_04 + 12_582_912.0
        let n = t - 12_582_912.0
        let r = xc - n * 0.693_359_375 - n * -2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let y = p * r * r + r + 1
        let scale = Float(bitPattern: (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
        return y * scale
    }

    /// `gate[i] = silu(gate[i]) * up[i] = gate[i] / (1 + e^-gate[i]) * up[i]` for `i < n`.
    static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n {
            let g = gate[i]
            gate[i] = g / (1 + exp(-g)) * up[i]
        }
    }

    /// `out[t, :] = x[t, :] * gain / sqrt(mean(x[t, :]^2) + eps)` for `t < rows`; `width` a multiple of 16.
    static func rmsNorm(_ x: UnsafePointer<Float>, gain: UnsafePointer<Float>, rows: Int, width: Int,
                        eps: Float, out: UnsafeMutablePointer<Float>) {
        for t in 0..<rows {
            let row = x + t * width
            var acc = SIMD16<Float>()
            var c = 0
            while c < width {
                let v = UnsafeRawPointer(row + c).loadUnaligned(as: SIMD16<Float>.self)
                acc += v * v
                c += 16
            }
            let inv = 1 / (acc.sum() / Float(width) + eps).squareRoot()
            let o = out + t * width
            for i in 0..<width { o[i] = row[i] * inv * gain[i] }
        }
    }
}
