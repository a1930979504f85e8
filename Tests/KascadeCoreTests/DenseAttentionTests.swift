import Testing
@testable import KascadeCore

@Suite("Dense attention")
struct DenseAttentionTests {
    @Test("a single visible key returns its value")
    func singleKey() throws {
        let geo = try AttentionGeometry(queryHeads: 2, kvHeads: 1, headDim: 4)
        let keys: [Float] = [1, 2, 3, 4]
        let values: [Float] = [5, -6, 7, 8]
        let q: [Float] = [0.5, 0.1, -0.2, 0.3, 1, 1, 1, 1]
        var out = [Float](repeating: .nan, count: 8)
        try keys.withUnsafeBufferPointer { k in
            try values.withUnsafeBufferPointer { v in
                let kv = KVCacheView(keys: k.baseAddress!, values: v.baseAddress!, length: 1, capacity: 1, geometry: geo)
                try DenseAttention().attend(layer: 0, queries: q, queryCount: 1, kv: kv, output: &out)
            }
        }
        #expect(out == values + values)
    }

    static let shapes: [(Int, Int, Int, Int, Int)] = [  // H, G, d, N, T
        (9, 3, 64, 1500, 1), (4, 4, 16, 300, 1), (6, 2, 7, 257, 40), (9, 3, 64, 200, 200), (2, 1, 33, 90, 5),
    ]

    @Test("causal and all-keys outputs equal a float64 softmax", arguments: shapes)
    func matchesReference(shape: (Int, Int, Int, Int, Int)) throws {
        let c = try AttentionCase(h: shape.0, g: shape.1, d: shape.2, n: shape.3, t: shape.4, spread: 2)
        for causal in [true, false] {
            for workers in [1, 3] {
                var out = [Float](repeating: .nan, count: c.q.count)
                c.withKV { kv in
                    _ = DenseAttention.compute(queries: c.q, queryCount: c.t, kv: kv, output: &out, causal: causal,
                                               workspace: AttentionWorkspace(), workers: workers)
                }
                #expect(relativeError(out, c.dense(causal: causal)) < 1e-5)
            }
        }
    }

    @Test("the SIMD exponential is accurate over the softmax range")
    func expAccuracy() {
        for _ in 0..<200 {
            var x = SIMD8<Float>()
            for i in 0..<8 { x[i] = Float.random(in: -87...0) }
            let e = VectorMath.expNonPositive(x)
            for i in 0..<8 {
                let ref = Foundation.exp(Double(x[i]))
                #expect(abs(Double(e[i]) - ref) <= 4e-7 * ref)
            }
        }
        #expect(VectorMath.expNonPositive(SIMD8(repeating: -.infinity)) == SIMD8(repeating: 0))
        #expect(VectorMath.expNonPositive(SIMD8(repeating: 0)) == SIMD8(repeating: 1))
    }
}

import Foundation
