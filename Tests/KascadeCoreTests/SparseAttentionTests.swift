import Testing
@testable import KascadeCore

@Suite("Sparse attention over index lists")
struct SparseAttentionTests {
    static func randomSet(_ n: Int, _ k: Int) -> [Int32] {
        Array((0..<n).shuffled().prefix(k)).sorted().map { Int32($0) }
    }

    @Test("decode rows equal a float64 masked softmax", arguments: [(9, 3, 64, 2000, 1), (4, 2, 16, 100, 3), (3, 3, 5, 50, 1)])
    func decode(shape: (Int, Int, Int, Int, Int)) throws {
        let c = try AttentionCase(h: shape.0, g: shape.1, d: shape.2, n: shape.3, t: shape.4, spread: 2)
        let G = shape.1, T = shape.4
        var sel = KeySelection(heads: G, rows: T, capacity: c.n / 4)
        for g in 0..<G { for t in 0..<T { sel.set(head: g, row: t, Self.randomSet(c.n, Int.random(in: 0...(c.n / 4)))) } }
        let map = (0..<G).map { _ in Int.random(in: 0..<G) }
        var out = [Float](repeating: .nan, count: c.q.count)
        try c.withKV { kv in
            try SparseAttention.validate(sel, queryCount: T, kv: kv, tile: nil, headMap: map)
            _ = SparseAttention.compute(queries: c.q, queryCount: T, kv: kv, selection: sel, headMap: map,
                                        output: &out, workspace: AttentionWorkspace(), workers: 2)
        }
        let ref = c.reference { h, t in sel.positions(head: map[c.geo.kvHead(ofQueryHead: h)], row: t).map { Int($0) } }
        #expect(relativeError(out, ref) < 1e-5)
    }

    @Test("prefill tiles read their keys plus the causal diagonal block", arguments: [(6, 2, 16, 160, 160), (4, 1, 8, 150, 70), (2, 2, 32, 96, 33)])
    func prefill(shape: (Int, Int, Int, Int, Int)) throws {
        let c = try AttentionCase(h: shape.0, g: shape.1, d: shape.2, n: shape.3, t: shape.4, spread: 2)
        let G = shape.1, T = shape.4, N = shape.3, tile = 32
        let rows = SparseAttention.tileRows(queryCount: T, length: N, tile: tile)
        let first = (N - T) / tile
        var sel = KeySelection(heads: G, rows: rows, capacity: N)
        for g in 0..<G { for r in 0..<rows {
            let t0 = (first + r) * tile
            sel.set(head: g, row: r, Self.randomSet(t0, Int.random(in: 0...t0)))
        } }
        var out = [Float](repeating: .nan, count: c.q.count)
        try c.withKV { kv in
            try SparseAttention.validate(sel, queryCount: T, kv: kv, tile: tile)
            _ = SparseAttention.compute(queries: c.q, queryCount: T, kv: kv, selection: sel, tile: tile,
                                        output: &out, workspace: AttentionWorkspace(), workers: 3)
        }
        let ref = c.reference { h, t in
            let p = N - T + t, t0 = (p / tile) * tile
            return sel.positions(head: c.geo.kvHead(ofQueryHead: h), row: p / tile - first).map { Int($0) } + Array(t0...p)
        }
        #expect(relativeError(out, ref) < 1e-5)
    }

    @Test("validation rejects positions out of range, after the tile, or repeated")
    func validation() throws {
        let c = try AttentionCase(h: 2, g: 1, d: 4, n: 64, t: 64)
        c.withKV { kv in
            var sel = KeySelection(heads: 1, rows: 2, capacity: 4)
            sel.set(head: 0, row: 1, [1, 32])
            #expect(throws: AttentionError.self) { try SparseAttention.validate(sel, queryCount: 64, kv: kv, tile: 32) }
            sel.set(head: 0, row: 1, [3, 3])
            #expect(throws: AttentionError.self) { try SparseAttention.validate(sel, queryCount: 64, kv: kv, tile: 32) }
            sel.set(head: 0, row: 1, [3, 31])
            #expect(throws: Never.self) { try SparseAttention.validate(sel, queryCount: 64, kv: kv, tile: 32) }
            var dec = KeySelection(heads: 1, rows: 1, capacity: 2)
            dec.set(head: 0, row: 0, [0, 64])
            #expect(throws: AttentionError.self) { try SparseAttention.validate(dec, queryCount: 1, kv: kv, tile: nil) }
        }
    }
}
