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
}
