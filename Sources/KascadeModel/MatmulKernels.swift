/// Register-blocked float32 dot-product kernels over rows already expanded from their quantised form.
///
/// Multiply-adds are fused on arm64 and on x86-64 (the package builds x86-64 for AVX2 + FMA);
/// elsewhere, or with `-DKASCADE_NO_FMA`, multiply and add are separate (no `fmaf` library calls).
enum MatmulKernels {
    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    /// Horizontal sum of the 16 lanes (pairwise halves, stays inline).
    @inline(__always)
    static func hsum(_ v: V) -> Float {
        let a = v.lowHalf + v.highHalf
        let b = a.lowHalf + a.highHalf
        let c = b.lowHalf + b.highHalf
        return c[0] + c[1]
    }

    @inline(__always)
    static func fma(_ acc: inout V, _ a: V, _ b: V) {
        #if (arch(x86_64) || arch(arm64)) && !KASCADE_NO_FMA
        acc.addProduct(a, b)
        #else
        acc += a * b
        #endif
    }

    /// `out[t * outStride + r] = w[r, :] . x[t, :]` for `r < rows`, `t < tokens`.
    /// `w` is `[rows, cols]` contiguous, `x` is `[tokens, xStride]`; `cols` a multiple of 16.
    @inline(__always)
    static func tile(w: UnsafePointer<Float>, rows: Int, cols: Int, x: UnsafePointer<Float>, xStride: Int,
                     tokens: Int, out: UnsafeMutablePointer<Float>, outStride: Int) {
        var t = 0
        while t + 2 <= tokens {
            var r = 0
            while r + 4 <= rows {
                block4x2(w: w + r * cols, cols: cols, x: x + t * xStride, xStride: xStride,
                         out: out + t * outStride + r, outStride: outStride)
                r += 4
            }
            while r < rows {
                for j in 0..<2 { out[(t + j) * outStride + r] = dot(w + r * cols, x + (t + j) * xStride, cols) }
                r += 1
            }
            t += 2
        }
        while t < tokens {
            var r = 0
            while r + 4 <= rows {
                block4x1(w: w + r * cols, cols: cols, x: x + t * xStride, out: out + t * outStride + r)
                r += 4
            }
            while r < rows {
                out[t * outStride + r] = dot(w + r * cols, x + t * xStride, cols)
                r += 1
            }
            t += 1
        }
    }

    /// `a . b` over `n` floats (`n` a multiple of 16).
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = V(), s1 = V()
        var c = 0
        while c + 32 <= n {
            fma(&s0, load(a + c), load(b + c))
            fma(&s1, load(a + c + 16), load(b + c + 16))
            c += 32
        }
        if c < n { fma(&s0, load(a + c), load(b + c)) }
        return hsum(s0 + s1)
    }

    /// Four rows against one token.
    @inline(__always)
    static func block4x1(w: UnsafePointer<Float>, cols: Int, x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        var c = 0
        while c < cols {
            let xv = load(x + c)
            fma(&a0, load(w + c), xv)
            fma(&a1, load(w + cols + c), xv)
            fma(&a2, load(w + 2 * cols + c), xv)
            fma(&a3, load(w + 3 * cols + c), xv)
            c &+= 16
        }
        out[0] = hsum(a0); out[1] = hsum(a1); out[2] = hsum(a2); out[3] = hsum(a3)
    }

    typealias V8 = SIMD8<Float>

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(p).loadUnaligned(as: V8.self) }

    @inline(__always)
    static func fma8(_ acc: inout V8, _ a: V8, _ b: V8) {
        #if (arch(x86_64) || arch(arm64)) && !KASCADE_NO_FMA
        acc.addProduct(a, b)
        #else
        acc += a * b
        #endif
    }

    @inline(__always)
    static func hsum8(_ v: V8) -> Float {
        let b = v.lowHalf + v.highHalf
        let c = b.lowHalf + b.highHalf
        return c[0] + c[1]
    }

    /// Four rows against two tokens: 8 eight-lane accumulators plus 3 operands stay within the
    /// 16 vector registers of AVX2 (no spills); 6 loads feed 8 multiply-adds.
    @inline(__always)
    static func block4x2(w: UnsafePointer<Float>, cols: Int, x: UnsafePointer<Float>, xStride: Int,
                         out: UnsafeMutablePointer<Float>, outStride: Int) {
        var a00 = V8(), a01 = V8()
        var a10 = V8(), a11 = V8()
        var a20 = V8(), a21 = V8()
        var a30 = V8(), a31 = V8()
        let x0 = x, x1 = x + xStride
        let w0 = w, w1 = w + cols, w2 = w + 2 * cols, w3 = w + 3 * cols
        var c = 0
        while c < cols {
            let v0 = load8(x0 + c), v1 = load8(x1 + c)
            let r0 = load8(w0 + c)
            fma8(&a00, r0, v0); fma8(&a01, r0, v1)
            let r1 = load8(w1 + c)
            fma8(&a10, r1, v0); fma8(&a11, r1, v1)
            let r2 = load8(w2 + c)
            fma8(&a20, r2, v0); fma8(&a21, r2, v1)
            let r3 = load8(w3 + c)
            fma8(&a30, r3, v0); fma8(&a31, r3, v1)
            c &+= 8
        }
        out[0] = hsum8(a00); out[1] = hsum8(a10); out[2] = hsum8(a20); out[3] = hsum8(a30)
        let o1 = out + outStride
        o1[0] = hsum8(a01); o1[1] = hsum8(a11); o1[2] = hsum8(a21); o1[3] = hsum8(a31)
    }
}
