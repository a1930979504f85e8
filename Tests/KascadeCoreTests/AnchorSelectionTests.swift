import Foundation
import Testing
@testable import KascadeCore

@Suite("Anchor selection and calibration")
struct AnchorSelectionTests {
    @Test("the DP finds the brute-force optimum on random similarity matrices", arguments: Array(1...12))
    func dpEqualsBruteForce(layers: Int) throws {
        for _ in 0..<4 {
            var sim = [[Double]](repeating: [Double](repeating: -.infinity, count: layers), count: layers)
            for i in 0..<layers { for j in i..<layers { sim[i][j] = Double.random(in: 0...1) } }
            for k in 1...layers {
                let dp = try AnchorSelection.best(sim: sim, anchors: k)
                let bf = AnchorSelection.bruteForce(sim: sim, anchors: k)
                #expect(dp.anchors == bf.anchors, "L=\(layers) K=\(k)")
                #expect(abs(dp.score - bf.score) < 1e-9)
                #expect(dp.anchors.first == 0 && dp.anchors.count == k)
                #expect(abs(AnchorSelection.score(sim: sim, anchors: dp.anchors) - dp.score) < 1e-9)
            }
        }
    }

    @Test("layer scores and head maps follow S and the importance")
    func scoresAndMaps() {
        var s = SimilarityTensor(layers: 3, heads: 2)
        for i in 0..<s.values.count { s.values[i] = Double.random(in: 0...1) }
        let imp = [0.5, 2, 3]
        let sim = AnchorSelection.layerScores(s, importance: imp)
        for i in 0..<3 { for j in i..<3 {
            let want = imp[j] * (max(s[i, j, 0, 0], s[i, j, 0, 1]) + max(s[i, j, 1, 0], s[i, j, 1, 1])) / 2
            #expect(abs(sim[i][j] - want) < 1e-12)
        } }
        let maps = AnchorSelection.headMaps(s, anchors: [0, 2])
        #expect(maps[0] == [0, 1] && maps[2] == [0, 1])
        #expect(maps[1] == (0..<2).map { h2 in s[0, 1, h2, 1] > s[0, 1, h2, 0] ? 1 : 0 })
    }

    /// Random layers sharing one KV cache shape; layer l uses its own q, k, v.
    static func runRecorder(_ rec: CalibrationRecorder, cases: [AttentionCase]) throws -> [[Float]] {
        try cases.enumerated().map { l, c in try c.run(rec, layer: l) }
    }

    @Test("recorded decode similarity equals a float64 recomputation and the schedule is the DP's")
    func recorderDecode() throws {
        let L = 4, G = 2, N = 400
        let budget = try Budget(fraction: 0.1, kMin: 8)
        let cases = try (0..<L).map { _ in try AttentionCase(h: 4, g: G, d: 16, n: N, t: 1, spread: 3) }
        let rec = CalibrationRecorder(layers: L, kvHeads: G, budget: budget, workers: 2)
        let outs = try Self.runRecorder(rec, cases: cases)
        for (l, c) in cases.enumerated() { #expect(relativeError(outs[l], c.dense(causal: true)) < 1e-5) }
        #expect(rec.accumulator.units == 1)
        let k = budget.keys(outOf: N)
        let pooled = cases.map { c in (0..<G).map { g in KascadeAttentionTests.pooledDecode(c, g: g, tq: 0) } }
        let top = pooled.map { $0.map { bruteTopK($0, k) } }
        let s = rec.similarity()
        for i in 0..<L { for j in i..<L { for h2 in 0..<G { for h1 in 0..<G {
            let p = pooled[j][h2]
            let want = top[i][h1].map { p[$0] }.reduce(0, +) / top[j][h2].map { p[$0] }.reduce(0, +)
            #expect(abs(s[i, j, h2, h1] - want) < 1e-4, "S[\(i),\(j)][\(h2),\(h1)]")
        } } } }
        for j in 0..<L { for h in 0..<G { #expect(abs(s[j, j, h, h] - 1) < 1e-12) } }
        let (schedule, score) = try rec.schedule(anchors: 2, modelID: "m", devSetID: "d")
        let dp = try AnchorSelection.best(sim: rec.layerScores(), anchors: 2)
        #expect(schedule.anchors == dp.anchors && abs(score - dp.score) < 1e-12)
        #expect(schedule.anchors.first == 0)
    }

    @Test("prefill tiles are units; reductions and importance behave")
    func recorderPrefill() throws {
        let L = 3, G = 1, N = 192
        let budget = try Budget(fraction: 0.25, kMin: 16)
        let cases = try (0..<L).map { _ in try AttentionCase(h: 2, g: G, d: 8, n: N, t: N, spread: 3) }
        let rec = CalibrationRecorder(layers: L, kvHeads: G, budget: budget, workers: 2)
        _ = try Self.runRecorder(rec, cases: cases)
        // Tiles at t0 = 32 ... 160 have 16 <= k < t0 except t0 = 32 (k = 16 < 32): all 5 count.
        #expect(rec.accumulator.units == 5)
        let mean = rec.similarity(.mean), low = rec.similarity(.min)
        for i in 0..<L { for j in i..<L {
            #expect(low[i, j, 0, 0] <= mean[i, j, 0, 0] + 1e-12)
            #expect(mean[i, j, 0, 0] > 0 && mean[i, j, 0, 0] <= 1 + 1e-6)
        } }
        // Importance: an attention output equal to the residual gives 1 - cos(x, 2x) = 0; orthogonal gives 1 - 1/sqrt(2).
        let x: [Float] = [1, 0, 0, 0], same = x, ortho: [Float] = [0, 1, 0, 0]
        rec.observe(layer: 0, residual: x, attentionOutput: same, tokenCount: 1, width: 4)
        rec.observe(layer: 1, residual: x, attentionOutput: ortho, tokenCount: 1, width: 4)
        let imp = rec.accumulator.importance
        #expect(abs(imp[0]) < 1e-12 && abs(imp[1] - (1 - 1 / 2.0.squareRoot())) < 1e-12 && imp[2] == 1)
    }

    @Test("the heatmap is an SVG with a cell per pair and the anchors marked")
    func heatmap() {
        let sim = (0..<5).map { i in (0..<5).map { j in j >= i ? Double(i + j) : -.infinity } }
        let svg = SimilarityHeatmap.svg(sim: sim, anchors: [0, 3])
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<title>sim[").count - 1 == 15)
        #expect(svg.components(separatedBy: "stroke=\"red\"").count - 1 == 2)
    }
}
