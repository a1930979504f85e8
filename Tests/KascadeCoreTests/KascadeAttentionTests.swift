import Foundation
import Testing
@testable import KascadeCore

@Suite("Kascade anchor and reuse")
struct KascadeAttentionTests {
    static func schedule(layers: Int, kvHeads: Int, fraction: Double, kMin: Int, shuffledMaps: Bool) throws -> KascadeSchedule {
        var s = try KascadeSchedule.evenlySpaced(layers: layers, kvHeads: kvHeads, anchors: 2, fraction: fraction, kMin: kMin)
        if shuffledMaps {
            for j in 0..<layers where !s.isAnchor(j) { s.headMaps[j] = (0..<kvHeads).map { _ in Int.random(in: 0..<kvHeads) } }
        }
        try s.validate()
        return s
    }

    @Test("at fraction 1.0 every layer of every variant equals dense",
          arguments: [(9, 3, 64, 700, 1), (6, 2, 16, 300, 300), (4, 4, 8, 200, 64)])
    func fullBudgetIsDense(shape: (Int, Int, Int, Int, Int)) throws {
        let c = try AttentionCase(h: shape.0, g: shape.1, d: shape.2, n: shape.3, t: shape.4, spread: 2)
        let dense = c.dense(causal: true)
        let s = try Self.schedule(layers: 4, kvHeads: shape.1, fraction: 1, kMin: 0, shuffledMaps: true)
        for variant in KascadeVariant.allCases {
            let policy = KascadeAttention(schedule: s, variant: variant, workers: 2)
            for layer in 0..<4 {
                #expect(relativeError(try c.run(policy, layer: layer), dense) < 1e-5, "\(variant) layer \(layer)")
            }
        }
    }

    @Test("decode layer 0 (scores shared by the dense output and the selection) equals a float64 dense softmax",
          arguments: [(9, 3, 64, 2100, 1), (8, 2, 16, 1500, 2), (5, 1, 8, 600, 1), (6, 3, 32, 1100, 3)])
    func layerZeroDecodeIsDense(shape: (Int, Int, Int, Int, Int)) throws {
        let c = try AttentionCase(h: shape.0, g: shape.1, d: shape.2, n: shape.3, t: shape.4, spread: 2)
        let dense = c.dense(causal: true)
        let s = try Self.schedule(layers: 4, kvHeads: shape.1, fraction: 0.1, kMin: 16, shuffledMaps: false)
        for variant in KascadeVariant.allCases {
            for workers in [1, 2, 3] {
                let policy = KascadeAttention(schedule: s, variant: variant, workers: workers)
                #expect(relativeError(try c.run(policy, layer: 0), dense) < 1e-5, "\(variant) workers \(workers)")
            }
        }
    }

    /// Float64 pooled post-softmax score of KV head `g` (nil: all heads) for decode query `tq` seeing all keys.
    static func pooledDecode(_ c: AttentionCase, g: Int?, tq: Int) -> [Double] {
        var s = [Double](repeating: 0, count: c.n)
        for h in 0..<c.geo.queryHeads where g == nil || c.geo.kvHead(ofQueryHead: h) == g {
            let p = c.probabilities(h: h, tq: tq, visible: c.n)
            for j in 0..<c.n { s[j] += p[j] }
        }
        return s
    }

    /// Checks `got` is the top-k of `score`, allowing swaps only between near-equal scores.
    static func expectTopK(_ got: [Int32], _ score: [Double], _ k: Int, _ note: String) {
        let want = bruteTopK(score, k)
        #expect(got.count == k, "\(note)")
        if got.map(Int.init) == want { return }
        let kth = want.map { score[$0] }.min()!
        for p in got where !want.contains(Int(p)) {
            #expect(abs(score[Int(p)] - kth) <= 1e-6 * max(kth, 1e-12), "\(note): \(p) is not a near-tie")
        }
    }

    @Test("decode anchor indices equal a float64 top-k of the pooled scores",
          arguments: [(9, 3, 64, 1200, 1), (8, 2, 16, 500, 3), (4, 1, 32, 300, 1)])
    func decodeAnchor(shape: (Int, Int, Int, Int, Int)) throws {
        let c = try AttentionCase(h: shape.0, g: shape.1, d: shape.2, n: shape.3, t: shape.4, spread: 3)
        let budget = try Budget(fraction: 0.1, kMin: 16)
        for pooled in [false, true] {
            var sel = KeySelection(heads: 0, rows: 0, capacity: 0)
            c.withKV { kv in
                KascadeAnchor.decode(queries: c.q, queryCount: c.t, kv: kv, budget: budget, pooled: pooled,
                                     into: &sel, workspace: AttentionWorkspace(), workers: 2)
            }
            #expect(sel.heads == (pooled ? 1 : shape.1) && sel.rows == c.t)
            for head in 0..<sel.heads {
                for t in 0..<c.t {
                    let score = Self.pooledDecode(c, g: pooled ? nil : head, tq: t)
                    Self.expectTopK(Array(sel.positions(head: head, row: t)), score, budget.keys(outOf: c.n), "head \(head) row \(t)")
                }
            }
        }
    }

    @Test("prefill anchor tiles: float64 top-k of the tile's causal scores, rolling budget, keys before the tile",
          arguments: [(6, 2, 16, 320, 320), (4, 2, 8, 300, 150), (3, 1, 16, 256, 64)])
    func prefillAnchor(shape: (Int, Int, Int, Int, Int)) throws {
        let c = try AttentionCase(h: shape.0, g: shape.1, d: shape.2, n: shape.3, t: shape.4, spread: 3)
        let budget = try Budget(fraction: 0.25, kMin: 40)
        let N = c.n, T = c.t, tile = 32, first = (N - T) / tile
        var sel = KeySelection(heads: 0, rows: 0, capacity: 0)
        c.withKV { kv in
            KascadeAnchor.prefill(queries: c.q, queryCount: T, kv: kv, budget: budget, tile: tile, pooled: false,
                                  into: &sel, workspace: AttentionWorkspace(), workers: 2)
        }
        #expect(sel.rows == SparseAttention.tileRows(queryCount: T, length: N, tile: tile))
        for g in 0..<shape.1 {
            for row in 0..<sel.rows {
                let t0 = (first + row) * tile
                let kt = max(budget.kMin, Int((0.25 * Double(t0)).rounded(.up)))
                let got = Array(sel.positions(head: g, row: row))
                #expect(got.allSatisfy { $0 >= 0 && Int($0) < t0 })
                if t0 <= kt {
                    #expect(got.map(Int.init) == Array(0..<t0), "tile at \(t0) must be dense")
                    continue
                }
                var score = [Double](repeating: 0, count: t0)
                for h in 0..<c.geo.queryHeads where c.geo.kvHead(ofQueryHead: h) == g {
                    for t in max(0, t0 - (N - T))..<min(T, t0 + tile - (N - T)) {
                        let p = c.probabilities(h: h, tq: t, visible: N - T + t + 1)
                        for j in 0..<t0 { score[j] += p[j] }
                    }
                }
                Self.expectTopK(got, score, kt, "g \(g) tile \(t0)")
            }
        }
    }

    @Test("reuse output equals a float64 masked softmax over the anchor's mapped indices",
          arguments: [(9, 3, 64, 900, 1), (6, 3, 16, 256, 128), (8, 2, 8, 200, 1)])
    func reuseMatchesReference(shape: (Int, Int, Int, Int, Int)) throws {
        let c = try AttentionCase(h: shape.0, g: shape.1, d: shape.2, n: shape.3, t: shape.4, spread: 3)
        let s = try Self.schedule(layers: 4, kvHeads: shape.1, fraction: 0.1, kMin: 8, shuffledMaps: true)
        let N = c.n, T = c.t, tile = 32, first = (N - T) / tile
        for variant in KascadeVariant.allCases {
            let policy = KascadeAttention(schedule: s, variant: variant, workers: 2)
            _ = try c.run(policy, layer: 0)
            let sel = policy.anchorSelection!
            // A reuse layer with its own Q, K, V.
            let other = try AttentionCase(h: shape.0, g: shape.1, d: shape.2, n: shape.3, t: shape.4, spread: 3)
            let out = try other.run(policy, layer: 1)
            let ref = other.reference { h, t in
                let g = c.geo.kvHead(ofQueryHead: h)
                let head = variant == .pooled ? 0 : variant == .noRemap ? g : s.headMaps[1][g]
                if T == 1 { return sel.positions(head: head, row: 0).map { Int($0) } }
                let p = N - T + t, t0 = (p / tile) * tile
                return sel.positions(head: head, row: p / tile - first).map { Int($0) } + Array(t0...p)
            }
            #expect(relativeError(out, ref) < 1e-5, "\(variant)")
            #expect(policy.stats.keysRead < policy.stats.denseKeys * 2)
        }
    }

    @Test("a prefill query gives no weight to later keys, at anchor and reuse layers")
    func causality() throws {
        let c = try AttentionCase(h: 6, g: 2, d: 16, n: 256, t: 256, spread: 3)
        let s = try Self.schedule(layers: 4, kvHeads: 2, fraction: 0.1, kMin: 8, shuffledMaps: true)
        let p0 = KascadeAttention(schedule: s)
        let before = try (0..<4).map { l in try c.run(p0, layer: l) }
        // Keys and values after `cut` become NaN: any weight on them, even zero, would show.
        let cut = 150
        for g in 0..<2 { for i in ((g * 256 + cut) * 16)..<((g + 1) * 256 * 16) { c.k[i] = .nan; c.v[i] = .nan } }
        let p = KascadeAttention(schedule: s)
        let after = try (0..<4).map { l in try c.run(p, layer: l) }
        let wholeTiles = (cut / 32) * 32
        for layer in 0..<4 { for h in 0..<6 { for t in 0..<cut {
            let o = (h * 256 + t) * 16
            let row = Array(after[layer][o..<(o + 16)])
            #expect(row.allSatisfy { $0.isFinite }, "layer \(layer) head \(h) query \(t)")
            // Tiles wholly before the cut select from the same scores, so they are bit-identical.
            if t < wholeTiles { #expect(row == Array(before[layer][o..<(o + 16)])) }
        } } }
    }

    @Test("chunked prefill and decode steps agree with one-shot calls", arguments: [32, 64, 96])
    func chunked(chunk: Int) throws {
        let full = try AttentionCase(h: 4, g: 2, d: 16, n: 224, t: 224, spread: 3)
        let s = try Self.schedule(layers: 3, kvHeads: 2, fraction: 0.2, kMin: 16, shuffledMaps: true)
        let oneShot = try (0..<3).map { l -> [Float] in
            let p = KascadeAttention(schedule: s)
            if l > 0 { _ = try full.run(p, layer: s.anchor(of: l)) }
            return try full.run(p, layer: l)
        }
        let policy = KascadeAttention(schedule: s)
        var start = 0
        while start < full.n {
            let T = min(chunk, full.n - start), N = start + T
            let geo = full.geo
            var q = [Float](repeating: 0, count: 4 * T * 16)
            for h in 0..<4 { for t in 0..<T { for i in 0..<16 { q[(h * T + t) * 16 + i] = full.q[(h * full.t + start + t) * 16 + i] } } }
            for l in 0..<3 {
                var out = [Float](repeating: .nan, count: q.count)
                try full.k.withUnsafeBufferPointer { kp in
                    try full.v.withUnsafeBufferPointer { vp in
                        let kv = KVCacheView(keys: kp.baseAddress!, values: vp.baseAddress!, length: N, capacity: full.n, geometry: geo)
                        try policy.attend(layer: l, queries: q, queryCount: T, kv: kv, output: &out)
                    }
                }
                for h in 0..<4 { for t in 0..<T { for i in 0..<16 {
                    let a = out[(h * T + t) * 16 + i], b = oneShot[l][(h * full.t + start + t) * 16 + i]
                    #expect(abs(a - b) <= 1e-5 * max(1, abs(b)))
                } } }
            }
            start += T
        }
    }

    @Test("a reuse layer before its anchor is an error, and stats count fewer keys than dense")
    func ordering() throws {
        let c = try AttentionCase(h: 4, g: 2, d: 16, n: 2000, t: 1)
        let s = try Self.schedule(layers: 4, kvHeads: 2, fraction: 0.1, kMin: 16, shuffledMaps: false)
        let p = KascadeAttention(schedule: s)
        #expect(throws: AttentionError.self) { try c.run(p, layer: 1) }
        _ = try c.run(p, layer: 0)
        _ = try c.run(p, layer: 1)
        #expect(p.stats.calls == 2)
        #expect(abs(p.stats.keysRead - (2000.0 + 200.0) * 4) < 1)
        #expect(throws: AttentionError.self) { try c.run(p, layer: 4) }
    }

    @Test("schedules round-trip through JSON and reject inconsistent fields")
    func scheduleJSON() throws {
        let s = try Self.schedule(layers: 6, kvHeads: 3, fraction: 0.1, kMin: 128, shuffledMaps: true)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sched-\(UInt32.random(in: 0...UInt32.max)).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try s.save(path: path)
        #expect(try KascadeSchedule.load(path: path) == s)
        #expect(throws: KascadeScheduleError.self) { try KascadeSchedule(layers: 4, kvHeads: 2, anchors: [1, 2], headMaps: Array(repeating: [0, 1], count: 4), modelID: "m", devSetID: "d") }
        #expect(throws: KascadeScheduleError.self) { try KascadeSchedule(layers: 4, kvHeads: 2, anchors: [0, 2], headMaps: Array(repeating: [0, 2], count: 4), modelID: "m", devSetID: "d") }
        #expect(throws: KascadeScheduleError.self) { try KascadeSchedule(layers: 4, kvHeads: 2, anchors: [0], headMaps: Array(repeating: [0, 1], count: 4), fraction: 1.5, modelID: "m", devSetID: "d") }
        try Data("{\"layers\": 3}".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: KascadeScheduleError.self) { try KascadeSchedule.load(path: path) }
    }
}
