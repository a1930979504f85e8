import Testing
@testable import KascadeCore

@Suite("Quest")
struct QuestAttentionTests {
    @Test("equals dense when the budget covers the context, decode and prefill", arguments: PeerShape.all)
    func fullBudgetIsDense(shape: PeerShape) throws {
        let fixture = try PeerFixture(shape, seed: 11)
        let err = try fixture.compareWithDense(QuestAttention(budget: .full, denseLayers: 0), layer: 4, seed: 3)
        #expect(err.decode < 1e-5)
        #expect(err.prefill < 1e-5)
    }

    @Test("page score bounds every q.k in its page and is tight for a one-key page", arguments: [3, 16, 64, 67])
    func pageScoreIsUpperBound(headDim d: Int) {
        var rng = PeerRandom(UInt64(d))
        for trial in 0..<200 {
            let size = trial == 0 ? 1 : 1 + Int(rng.next() % 16)
            let page = (0..<size).map { _ in rng.normals(d, sd: 2) }
            let q = rng.normals(d)
            var lo = page[0], hi = page[0]
            for k in page {
                for i in 0..<d {
                    lo[i] = min(lo[i], k[i])
                    hi[i] = max(hi[i], k[i])
                }
            }
            let score = QuestAttention.pageScore(query: q, minKey: lo, maxKey: hi, headDim: d)
            for k in page {
                let dot = zip(q, k).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                #expect(Double(score) >= dot - 1e-4 * Double(d))
            }
            if size == 1 {
                let dot = zip(q, page[0]).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                #expect(abs(Double(score) - dot) <= 1e-4 * Double(d))
            }
        }
    }

    @Test("page metadata after random appends equals a rebuild from scratch", arguments: PeerShape.all)
    func metadataMatchesRebuild(shape: PeerShape) throws {
        let fixture = try PeerFixture(shape, capacity: shape.length + 40, seed: 21)
        let table = QuestPageTable(pageSize: 16)
        var rng = PeerRandom(5)
        var length = 0
        while length < shape.length + 40 {
            length = min(shape.length + 40, length + 1 + Int(rng.next() % 23))
            fixture.withView(length: length) { table.update(from: $0) }
            #expect(table.coveredLength == length)
            #expect(table.pageCount == (length + 15) / 16)
            for g in 0..<shape.kvHeads {
                for p in 0..<table.pageCount {
                    let lo = UnsafeBufferPointer(start: table.minKey(g, p), count: shape.headDim)
                    let hi = UnsafeBufferPointer(start: table.maxKey(g, p), count: shape.headDim)
                    for i in 0..<shape.headDim {
                        let column = (p * 16..<min(length, p * 16 + 16)).map { fixture.key(g, $0)[fixture.key(g, $0).startIndex + i] }
                        #expect(lo[i] == column.min()!)
                        #expect(hi[i] == column.max()!)
                    }
                }
            }
        }
        // A shorter cache is a new sequence: the table starts over.
        fixture.withView(length: 5) { table.update(from: $0) }
        #expect(table.coveredLength == 5)
        #expect(Array(UnsafeBufferPointer(start: table.maxKey(0, 0), count: shape.headDim))
                == (0..<shape.headDim).map { i in (0..<5).map { fixture.key(0, $0)[fixture.key(0, $0).startIndex + i] }.max()! })
    }

    @Test("decode attends exactly over the top pages plus the current page",
          arguments: [PeerShape(queryHeads: 9, kvHeads: 3, headDim: 64, length: 1000),
                      PeerShape(queryHeads: 4, kvHeads: 2, headDim: 12, length: 333)])
    func decodeMatchesReference(shape: PeerShape) throws {
        let fixture = try PeerFixture(shape, seed: 31)
        let budget = try Budget(fraction: 0.2, kMin: 16)
        let quest = QuestAttention(budget: budget, pageSize: 16, denseLayers: 2)
        let n = shape.length, d = shape.headDim
        let q = fixture.queries(1, seed: 8)
        let out = try fixture.run(quest, layer: 2, queries: q, count: 1, length: n)
        let pages = (n + 15) / 16
        let keep = (budget.keys(outOf: n) + 15) / 16
        var expected = [Double](), reads = 0
        for h in 0..<shape.queryHeads {
            let g = fixture.geo.kvHead(ofQueryHead: h)
            let qh = Array(q[(h * d)..<((h + 1) * d)])
            var scored: [(Float, Int)] = []
            for p in 0..<(pages - 1) {
                let rows = (p * 16..<(p * 16 + 16)).map { Array(fixture.key(g, $0)) }
                let lo = (0..<d).map { i in rows.map { $0[i] }.min()! }
                let hi = (0..<d).map { i in rows.map { $0[i] }.max()! }
                scored.append((QuestAttention.pageScore(query: qh, minKey: lo, maxKey: hi, headDim: d), p))
            }
            let chosen = scored.sorted { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }.prefix(keep - 1).map { $0.1 } + [pages - 1]
            let positions = chosen.sorted().flatMap { p in Array(p * 16..<min(n, p * 16 + 16)) }
            reads += positions.count
            expected += fixture.reference(query: qh[...], g: g, positions: positions)
        }
        #expect(PeerFixture.relativeError(out, expected, headDim: d) < 1e-4)
        #expect(quest.stats.keysRead == Double(reads))
        #expect(quest.stats.denseKeys == Double(shape.queryHeads * n))
        #expect(quest.stats.readFraction < 0.3)
    }

    @Test("the first two layers and prefill chunks run dense")
    func denseLayersAndPrefill() throws {
        let shape = PeerShape(queryHeads: 4, kvHeads: 2, headDim: 16, length: 500)
        let fixture = try PeerFixture(shape, seed: 41)
        let quest = QuestAttention(budget: try Budget(fraction: 0.05, kMin: 0))
        let q = fixture.queries(1, seed: 2)
        let dense = try fixture.run(DenseAttention(), layer: 0, queries: q, count: 1, length: 500)
        for layer in 0..<2 {
            let out = try fixture.run(quest, layer: layer, queries: q, count: 1, length: 500)
            #expect(PeerFixture.relativeError(out, dense, headDim: 16) < 1e-5)
        }
        let sparse = try fixture.run(quest, layer: 2, queries: q, count: 1, length: 500)
        #expect(PeerFixture.relativeError(sparse, dense, headDim: 16) > 1e-3)
        let qs = fixture.queries(9, seed: 3)
        let chunk = try fixture.run(quest, layer: 5, queries: qs, count: 9, length: 500)
        let denseChunk = try fixture.run(DenseAttention(), layer: 5, queries: qs, count: 9, length: 500)
        #expect(PeerFixture.relativeError(chunk, denseChunk, headDim: 16) < 1e-5)
    }

    @Test("per-layer state: interleaved layers decoding step by step equal a fresh instance each step")
    func interleavedLayersMatchFresh() throws {
        let shape = PeerShape(queryHeads: 6, kvHeads: 2, headDim: 16, length: 260)
        let layers = [try PeerFixture(shape, seed: 51), try PeerFixture(shape, seed: 52)]
        let budget = try Budget(fraction: 0.15, kMin: 8)
        let incremental = QuestAttention(budget: budget)
        let prompt = 150
        for (i, f) in layers.enumerated() {
            _ = try f.run(incremental, layer: 2 + i, queries: f.queries(prompt, seed: 1), count: prompt, length: prompt)
        }
        for n in (prompt + 1)...shape.length {
            for (i, f) in layers.enumerated() {
                let q = f.queries(1, seed: UInt64(n))
                let got = try f.run(incremental, layer: 2 + i, queries: q, count: 1, length: n)
                let want = try f.run(QuestAttention(budget: budget), layer: 2 + i, queries: q, count: 1, length: n)
                #expect(got == want)
            }
        }
        #expect(incremental.stats.readFraction < 0.5)
    }
}
