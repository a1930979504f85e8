/// Register-blocked float32 dot-product kernels over rows already expanded from their quantised form.
///
/// Multiply-adds are fused on arm64 and on x86-64 (the package builds x86-64 for AVX2 + FMA);
/// elsewhere, or with `-DKASCADE_NO_FMA`, multiply and add are separate (no `fmaf` library calls).
enum MatmulKernels {
    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

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
        while t + 4 <= tokens {
            var r = 0
            while r + 4 <= rows {
                block4x4(w: w + r * cols, cols: cols, x: x + t * xStride, xStride: xStride,
                         out: out + t * outStride + r, outStride: outStride)
                r += 4
            }
            while r < rows {
                for j in 0..<4 { out[(t + j) * outStride + r] = dot(w + r * cols, x + (t + j) * xStride, cols) }
                r += 1
            }
            t += 4
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
        return (s0 + s1).sum()
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
            c += 16
        }
        out[0] = a0.sum(); out[1] = a1.sum(); out[2] = a2.sum(); out[3] = a3.sum()
    }

    /// Four rows against four tokens: 16 accumulators.
    @inline(__always)
    static func block4x4(w: UnsafePointer<Float>, cols: Int, x: UnsafePointer<Float>, xStride: Int,
                         out: UnsafeMutablePointer<Float>, outStride: Int) {
        var a00 = V(), a01 = V(), a02 = V(), a03 = V()
        var a10 = V(), a11 = V(), a12 = V(), a13 = V()
        var a20 = V(), a21 = V(), a22 = V(), a23 = V()
        var a30 = V(), a31 = V(), a32 = V(), a33 = V()
        let x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride
        let w0 = w, w1 = w + cols, w2 = w + 2 * cols, w3 = w + 3 * cols
        var c = 0
        while c < cols {
            let v0 = load(x0 + c), v1 = load(x1 + c), v2 = load(x2 + c), v3 = load(x3 + c)
            let r0 = load(w0 + c)
            fma(&a00, r0, v0); fma(&a01, r0, v1); fma(&a02, r0, v2); fma(&a03, r0, v3)
            let r1 = load(w1 + c)
            fma(&a10, r1, v0); fma(&a11, r1, v1); fma(&a12, r1, v2); fma(&a13, r1, v3)
            let r2 = load(w2 + c)
            fma(&a20, r2, v0); fma(&a21, r2, v1); fma(&a22, r2, v2); fma(&a23, r2, v3)
            let r3 = load(w3 + c)
            fma(&a30, r3, v0); fma(&a31, r3, v1); fma(&a32, r3, v2); fma(&a33, r3, v3)
            c += 16
        }
        out[0] = a00.sum(); out[1] = a10.sum(); out[2] = a20.sum(); out[3] = a30.sum()
        let o1 = out + outStride, o2 = out + 2 * outStride, o3 = out + 3 * outStride
        o1[0] = a01.sum(); o1[1] = a11.sum(); o1[2] = a21.sum(); o1[3] = a31.sum()
        o2[0] = a02.sum(); o2[1] = a12.sum(); o2[2] = a22.sum(); o2[3] = a32.sum()
        o3[0] = a03.sum(); o3[1] = a13.sum(); o3[2] = a23.sum(); o3[3] = a33.sum()
    }
}
