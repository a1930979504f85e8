import Testing
@testable import KascadeModel

@Suite("Quantised matrix products")
struct MatmulTests {
    @Test("tiled products equal a plain loop over the dequantised weights",
          arguments: [GGMLType.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1], [(1, 5, 32), (3, 16, 64), (4, 37, 96), (9, 33, 32)])
    func matchesReference(type: GGMLType, shape: (Int, Int, Int)) throws {
        let (tokens, rows, cols) = shape
        var rng = TestRandom(seed: UInt64(type.rawValue) &* 31 &+ UInt64(rows))
        var w = GGUFWriter()
        w.addTensor("w", shape: [cols, rows], type: type, values: rng.normals(rows * cols))
        let file = try GGUFFile(bytes: w.bytes())
        let info = try file.requireTensor("w")
        let weight = try WeightMatrix(file: file, info: info)
        let dense = try file.dequantize(info)
        let x = rng.normals(tokens * cols)
        let outStride = rows + 3
        var out = [Float](repeating: .nan, count: tokens * outStride)
        let scratch = MatmulScratch(maxCols: cols, chunks: 3)
        out.withUnsafeMutableBufferPointer { o in
            x.withUnsafeBufferPointer { xp in
                MatmulGroup([MatmulTask(weight: weight, output: o.baseAddress!, outStride: outStride)])
                    .run(input: xp.baseAddress!, inStride: cols, tokens: tokens, scratch: scratch)
            }
        }
        for t in 0..<tokens {
            for r in 0..<rows {
                var ref: Double = 0
                for c in 0..<cols { ref += Double(dense[r * cols + c]) * Double(x[t * cols + c]) }
                let got = out[t * outStride + r]
                #expect(abs(Double(got) - ref) <= 1e-4 * max(1, abs(ref)), "t=\(t) r=\(r): \(got) vs \(ref)")
            }
            #expect(out[t * outStride + rows].isNaN, "wrote past the rows")
        }
    }

    @Test("fast exp, SwiGLU and RMSNorm agree with libm", arguments: [1, 2, 3])
    func elementwise(seed: UInt64) {
        var rng = TestRandom(seed: seed)
        for _ in 0..<2000 {
            let x = Float.random(in: -80...80, using: &rng)
            let ref = Foundation_exp(Double(x))
            #expect(abs(Double(FastMath.exp(x)) - ref) <= 3e-7 * ref)
        }
        let n = 64
        var g = rng.normals(n, scale: 4), u = rng.normals(n)
        let g0 = g
        g.withUnsafeMutableBufferPointer { gp in u.withUnsafeMutableBufferPointer { FastMath.swiglu(gp.baseAddress!, $0.baseAddress!, n) } }
        for i in 0..<n {
            let ref = Double(g0[i]) / (1 + Foundation_exp(-Double(g0[i]))) * Double(u[i])
            #expect(abs(Double(g[i]) - ref) <= 1e-5 * max(1, abs(ref)))
        }
        let x = rng.normals(2 * n), gain = rng.normals(n)
        var out = [Float](repeating: 0, count: 2 * n)
        out.withUnsafeMutableBufferPointer { o in
            FastMath.rmsNorm(x, gain: gain, rows: 2, width: n, eps: 1e-5, out: o.baseAddress!)
        }
        for t in 0..<2 {
            let ms = (0..<n).map { Double(x[t * n + $0]) * Double(x[t * n + $0]) }.reduce(0, +) / Double(n)
            for i in 0..<n {
                let ref = Double(x[t * n + i]) / (ms + 1e-5).squareRoot() * Double(gain[i])
                #expect(abs(Double(out[t * n + i]) - ref) <= 1e-5 * max(1, abs(ref)))
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
func Foundation_exp(_ x: Double) -> Double { Glibc.exp(x) }
#else
import Darwin
func Foundation_exp(_ x: Double) -> Double { Darwin.exp(x) }
#endif
