import Testing
@testable import KascadeCore

@Suite("Twilight")
struct TwilightAttentionTests {
    @Test("equals dense when the budget covers the context, decode and prefill", arguments: PeerShape.all)
    func fullBudgetIsDense(shape: PeerShape) throws {
        let fixture = try PeerFixture(shape, seed: 12)
        let whole = try fixture.compareWithDense(TwilightAttention(budget: .full, denseLayers: 0), layer: 3, seed: 4)
        #expect(whole.decode < 1e-5)
        #expect(whole.prefill < 1e-5)
        let noPrune = TwilightAttention(budget: try Budget(fraction: 0.1, kMin: 0), baseFraction: 1, topP: 1, denseLayers: 0)
        let kept = try fixture.compareWithDense(noPrune, layer: 3, seed: 5)
        #expect(kept.decode < 1e-5)
        #expect(kept.prefill < 1e-5)
    }

    /// Sort-based reference: the smallest prefix, by descending weight, holding `p` of the total.
    static func referenceSet(_ w: [Float], _ p: Float) -> Set<Int> {
        let order = w.indices.sorted { w[$0] != w[$1] ? w[$0] > w[$1] : $0 < $1 }
        let total = w.reduce(0.0) { $0 + Double($1) }
        var mass = 0.0
        var kept = Set<Int>()
        for j in order {
            kept.insert(j)
            mass += Double(w[j])
            if mass >= Double(p) * total * (1 - 1e-6) { break }
        }
        return kept
    }

    @Test("top-p keeps the smallest set with mass >= p, up to the threshold tolerance",
          arguments: [(1, Float(0.95)), (50, 0.5), (400, 0.9), (400, 0.95), (3000, 0.99), (200, 0.999)])
    func topPMatchesSort(count: Int, p: Float) {
        var rng = PeerRandom(UInt64(count) &* 7 &+ UInt64(p * 1000))
        for trial in 0..<20 {
            // Heavy-tailed weights; every fourth trial coarse, so ties occur.
            var w = (0..<count).map { _ in Float(peerExp(Double(3 * rng.normal()))) }
            if trial % 4 == 3 { w = w.map { ($0 * 4).rounded() / 4 } }
            if w.allSatisfy({ $0 == 0 }) { w[0] = 1 }
            let theta = TwilightAttention.topPThreshold(weights: w, count: count, mass: p)
            let kept = Set(w.indices.filter { w[$0] >= theta })
            let reference = Self.referenceSet(w, p)
            let top = w.max()!
            let tolerance = top / Float(1 << TwilightAttention.thresholdIterations)
            let referenceMin = reference.map { w[$0] }.min()!
            let total = w.reduce(0.0) { $0 + Double($1) }
            let mass = kept.reduce(0.0) { $0 + Double(w[$1]) }
            // Contains every weight above the reference's smallest (ties at it may go either way).
            #expect(w.indices.filter { w[$0] > referenceMin }.allSatisfy(kept.contains))
            #expect(kept.count >= reference.count)
            // Anything beyond the reference lies within the tolerance below its smallest weight.
            for j in kept where w[j] < referenceMin { #expect(w[j] >= referenceMin - tolerance) }
            #expect(mass >= Double(p) * total * (1 - 1e-5))
        }
    }

    @Test("the 4-bit key copy is incremental, within half a step per dimension, and its dot is exact",
          arguments: PeerShape.all)
    func int4Cache(shape: PeerShape) throws {
        let n = shape.length + 20, d = shape.headDim
        let fixture = try PeerFixture(shape, capacity: n, seed: 22)
        let cache = Int4KeyCache()
        var rng = PeerRandom(9)
        var length = 0
        while length < n {
            length = min(n, length + 1 + Int(rng.next() % 40))
            fixture.withView(length: length) { cache.update(from: $0) }
        }
        let fresh = Int4KeyCache()
        fixture.withView(length: n) { fresh.update(from: $0) }
        #expect(cache.coveredLength == n && cache.paddedDim % 16 == 0 && cache.paddedDim >= d)
        let q = rng.normals(d)
        let padded = q + [Float](repeating: 0, count: cache.paddedDim - d)
        let qSum = q.reduce(0, +)
        for g in 0..<shape.kvHeads {
            for pos in 0..<n {
                let k = Array(fixture.key(g, pos))
                let step = cache.scale(g, pos), zero = cache.zeroPoint(g, pos)
                #expect(step == fresh.scale(g, pos) && zero == fresh.zeroPoint(g, pos))
                #expect(zero == k.min()! && abs(step - (k.max()! - k.min()!) / 15) <= 1e-6 * abs(step) + 1e-12)
                var exact = 0.0
                for i in 0..<d {
                    let c = cache.code(g, pos, i)
                    #expect(c == fresh.code(g, pos, i) && c <= 15)
                    let approx = zero + step * Float(c)
                    #expect(abs(approx - k[i]) <= step / 2 * 1.0001 + 1e-6)
                    exact += Double(q[i]) * Double(approx)
                }
                let estimate = cache.estimateDot(g, pos, paddedQuery: padded, querySum: qSum)
                #expect(abs(Double(estimate) - exact) <= 1e-4 * (1 + abs(exact)) * Double(d))
            }
        }
    }

    @Test("decode keeps the top-p set of the Quest candidates and attends exactly over it",
          arguments: [PeerShape(queryHeads: 9, kvHeads: 3, headDim: 64, length: 1500),
                      PeerShape(queryHeads: 4, kvHeads: 2, headDim: 20, length: 701)])
    func decodeMatchesReference(shape: PeerShape) throws {
        // Larger keys give peaked attention, as in a trained model.
        let fixture = try PeerFixture(shape, seed: 32, keySD: 2.5)
        let twilight = TwilightAttention(budget: try Budget(fraction: 0.1, kMin: 16), baseFraction: 0.3, topP: 0.9)
        let n = shape.length, d = shape.headDim
        let q = fixture.queries(1, seed: 9)
        let out = try fixture.run(twilight, layer: 2, queries: q, count: 1, length: n)
        let table = QuestPageTable(), cache = Int4KeyCache()
        fixture.withView(length: n) { table.update(from: $0); cache.update(from: $0) }
        let b0 = twilight.candidateBudget(contextLength: n)
        #expect(b0 == Int((0.3 * Double(n)).rounded(.up)))
        let keep = (b0 + 15) / 16
        var expected = [Double](), keptTotal = 0
        for h in 0..<shape.queryHeads {
            let g = fixture.geo.kvHead(ofQueryHead: h)
            let qh = Array(q[(h * d)..<((h + 1) * d)])
            var scores = [Float](repeating: 0, count: table.pageCount), order = [Int32](repeating: 0, count: table.pageCount)
            var chosen = [Int32](repeating: 0, count: keep), positions = [Int32](repeating: 0, count: keep * 16)
            let count = QuestAttention.selectPositions(query: qh, table: table, kvHead: g, length: n, pagesToKeep: keep,
                                                       pageSize: 16, pageScores: &scores, pageOrder: &order,
                                                       chosenPages: &chosen, into: &positions)
            let padded = qh + [Float](repeating: 0, count: cache.paddedDim - d)
            let est = (0..<count).map {
                cache.estimateDot(g, Int(positions[$0]), paddedQuery: padded, querySum: qh.reduce(0, +)) * fixture.geo.scale
            }
            let m = est.max()!
            let w = est.map { ($0 - m).exp }
            let kept = Self.referenceSet(w, 0.9).sorted().map { Int(positions[$0]) }
            #expect(kept.count < count)
            #expect(twilight.lastKeptKeys[h] == kept.count)
            keptTotal += kept.count
            expected += fixture.reference(query: qh[...], g: g, positions: kept)
        }
        #expect(PeerFixture.relativeError(out, expected, headDim: d) < 1e-4)
        #expect(twilight.stats.keysRead == Double(keptTotal))
        #expect(twilight.meanKeptKeys == Double(keptTotal) / Double(shape.queryHeads))
        #expect(twilight.estimatedKeys > keptTotal)
    }

    @Test("the first two layers and prefill chunks run dense; pruning reads less than the candidates")
    func denseLayersAndPrefill() throws {
        let shape = PeerShape(queryHeads: 4, kvHeads: 2, headDim: 16, length: 600)
        let fixture = try PeerFixture(shape, seed: 42, keySD: 2)
        let twilight = TwilightAttention()
        let q = fixture.queries(1, seed: 2)
        let dense = try fixture.run(DenseAttention(), layer: 0, queries: q, count: 1, length: 600)
        for layer in 0..<2 {
            let out = try fixture.run(twilight, layer: layer, queries: q, count: 1, length: 600)
            #expect(PeerFixture.relativeError(out, dense, headDim: 16) < 1e-5)
        }
        #expect(twilight.keptSteps == 0)
        let qs = fixture.queries(5, seed: 3)
        let chunk = try fixture.run(twilight, layer: 5, queries: qs, count: 5, length: 600)
        let denseChunk = try fixture.run(DenseAttention(), layer: 5, queries: qs, count: 5, length: 600)
        #expect(PeerFixture.relativeError(chunk, denseChunk, headDim: 16) < 1e-5)
        _ = try fixture.run(twilight, layer: 2, queries: q, count: 1, length: 600)
        #expect(twilight.keptSteps == 4)
        #expect(twilight.meanKeptKeys >= 1 && twilight.meanKeptKeys < Double(twilight.candidateBudget(contextLength: 600)))
        twilight.reset()
        #expect(twilight.keptSteps == 0 && twilight.stats.calls == 0)
    }

    @Test("per-layer state: interleaved layers decoding step by step equal a fresh instance each step")
    func interleavedLayersMatchFresh() throws {
        let shape = PeerShape(queryHeads: 6, kvHeads: 2, headDim: 24, length: 300)
        let layers = [try PeerFixture(shape, seed: 53, keySD: 2), try PeerFixture(shape, seed: 54, keySD: 2)]
        let make = { TwilightAttention(budget: try! Budget(fraction: 0.05, kMin: 8), baseFraction: 0.3, topP: 0.9) }
        let incremental = make()
        let prompt = 170
        for (i, f) in layers.enumerated() {
            _ = try f.run(incremental, layer: 2 + i, queries: f.queries(prompt, seed: 1), count: prompt, length: prompt)
        }
        for n in (prompt + 1)...shape.length {
            for (i, f) in layers.enumerated() {
                let q = f.queries(1, seed: UInt64(n))
                let got = try f.run(incremental, layer: 2 + i, queries: q, count: 1, length: n)
                let want = try f.run(make(), layer: 2 + i, queries: q, count: 1, length: n)
                #expect(got == want)
            }
        }
        #expect(incremental.keptSteps > 0 && incremental.meanKeptKeys < Double(incremental.candidateBudget(contextLength: prompt)))
    }
}
