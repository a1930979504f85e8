/// SIMD inner loops shared by the attention kernels (dot product, scaled add, scale).
public enum VectorMath {
    /// `sum_i a[i] * b[i]` over `n` floats, SIMD16 accumulators.
    @inlinable @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var i = 0
        while i + 32 <= n {
            acc0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            acc1 += ra.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
                * rb.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
            i += 32
        }
        if i + 16 <= n {
            acc0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        var s = (acc0 + acc1).sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// `y[i] += alpha * x[i]` over `n` floats.
    @inlinable @inline(__always)
    public static func axpy(_ y: UnsafeMutablePointer<Float>, _ alpha: Float, _ x: UnsafePointer<Float>, _ n: Int) {
        let ry = UnsafeMutableRawPointer(y), rx = UnsafeRawPointer(x)
        let a = SIMD16<Float>(repeating: alpha)
        var i = 0
        while i + 16 <= n {
            let v = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                + a * rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { y[i] += alpha * x[i]; i += 1 }
    }

    /// `y[i] *= alpha` over `n` floats.
    @inlinable @inline(__always)
    public static func scale(_ y: UnsafeMutablePointer<Float>, _ alpha: Float, _ n: Int) {
        for i in 0..<n { y[i] *= alpha }
    }

    /// `e^x` for `x <= 0` (softmax after max subtraction), float32 accuracy (rel. error < 2e-7),
    /// vectorisable: Cody–Waite range reduction and a degree-6 polynomial; `x < -87` gives 0.
    @inlinable @inline(__always)
    public static func expNonPositive(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // NaN and out-of-range lanes are clamped before the float-to-int step and restored after.
        var clamped = x.replacing(with: -87.5, where: x .< -87.5)
        clamped = clamped.replacing(with: 0, where: .!(clamped .<= 0))
        let log2e: Float = 1.442695040888963
        // Round to nearest with the 1.5 * 2^23 trick (no libm call, no SSE4.1 needed); the integer
        // sits in the low mantissa bits of `shifted`.
        let magic = SIMD8<Float>(repeating: 12582912)
        let shifted = clamped * log2e + magic
        let n = shifted - magic
        var r = clamped - n * 0.693145751953125
        r = r - n * 1.428606765330187e-06
        var p = SIMD8<Float>(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // 2^n: the biased exponent n + 127 moved into the exponent field. Whole-vector operations on
        // concrete SIMD8<Int32> (a multiply, not `&<<`, whose scalar form goes through generic code).
        let biased = unsafeBitCast(shifted, to: SIMD8<Int32>.self)
            &- SIMD8<Int32>(repeating: 0x4B40_0000 - 127)
        let bits = biased &* SIMD8<Int32>(repeating: 1 << 23)
        let scaled = p * unsafeBitCast(bits, to: SIMD8<Float>.self)
        return scaled.replacing(with: 0, where: x .< -87.5).replacing(with: .nan, where: x .!= x)
    }

    /// Replaces `x[i]` by `e^(x[i] - shift)` (all `x[i] <= shift`) and returns their sum.
    @inlinable @inline(__always)
    public static func expShiftedSum(_ x: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
        let raw = UnsafeMutableRawPointer(x)
        let m = SIMD8<Float>(repeating: shift)
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let e = expNonPositive(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - m)
            raw.storeBytes(of: e, toByteOffset: i * 4, as: SIMD8<Float>.self)
            acc += e
            i += 8
        }
        var s = acc.sum()
        while i < n {
            var t = SIMD8<Float>(repeating: -Float.infinity)
            t[0] = x[i] - shift
            let e = expNonPositive(t)[0]
            x[i] = e
            s += e
            i += 1
        }
        return s
    }
}
