@testable import KascadeCore

/// Random attention inputs and float64 references for the tests.
final class AttentionCase {
    let geo: AttentionGeometry
    let n: Int, t: Int
    var q: [Float]      // [H, T, d]
    var k: [Float]      // [G, N, d]
    var v: [Float]      // [G, N, d]

    init(h: Int, g: Int, d: Int, n: Int, t: Int, spread: Float = 1) throws {
        geo = try AttentionGeometry(queryHeads: h, kvHeads: g, headDim: d)
        self.n = n; self.t = t
        // A few heavy keys make the softmax peaky, as in real attention.
        q = (0..<(h * t * d)).map { _ in Float.random(in: -1...1) * spread }
        k = (0..<(g * n * d)).map { _ in Float.random(in: -1...1) * spread }
        v = (0..<(g * n * d)).map { _ in Float.random(in: -1...1) }
    }

    func withKV<R>(_ body: (KVCacheView) throws -> R) rethrows -> R {
        try k.withUnsafeBufferPointer { kp in
            try v.withUnsafeBufferPointer { vp in
                try body(KVCacheView(keys: kp.baseAddress!, values: vp.baseAddress!, length: n, capacity: n, geometry: geo))
            }
        }
    }

    /// Runs a policy on layer `layer` with all `T` queries; returns `[H, T, d]`.
    func run(_ policy: AttentionPolicy, layer: Int) throws -> [Float] {
        var out = [Float](repeating: .nan, count: q.count)
        try withKV { kv in try policy.attend(layer: layer, queries: q, queryCount: t, kv: kv, output: &out) }
        return out
    }

    /// float64 scores of query `(h, tq)` against every key.
    func scores(h: Int, tq: Int) -> [Double] {
        let d = geo.headDim, g = geo.kvHead(ofQueryHead: h)
        return (0..<n).map { j in
            var s = 0.0
            for i in 0..<d { s += Double(q[(h * t + tq) * d + i]) * Double(k[(g * n + j) * d + i]) }
            return s / Double(d).squareRoot()
        }
    }

    /// float64 softmax attention of query `(h, tq)` over `keys` (duplicates not expected).
    func attend(h: Int, tq: Int, keys: [Int]) -> [Double] {
        let d = geo.headDim, g = geo.kvHead(ofQueryHead: h)
        let s = scores(h: h, tq: tq)
        let m = keys.map { s[$0] }.max() ?? 0
        var out = [Double](repeating: 0, count: d)
        var sum = 0.0
        for j in keys {
            let e = Foundation.exp(s[j] - m)
            sum += e
            for i in 0..<d { out[i] += e * Double(v[(g * n + j) * d + i]) }
        }
        return keys.isEmpty ? out : out.map { $0 / sum }
    }

    /// float64 reference `[H, T, d]` where query `(h, tq)` reads `keys(h, tq)`.
    func reference(_ keys: (Int, Int) -> [Int]) -> [Double] {
        var out: [Double] = []
        for h in 0..<geo.queryHeads { for tq in 0..<t { out += attend(h: h, tq: tq, keys: keys(h, tq)) } }
        return out
    }

    /// Dense reference: causal (query `tq` sees `0 ... N-T+tq`) or all `N` keys.
    func dense(causal: Bool) -> [Double] {
        reference { _, tq in Array(0..<(causal ? n - t + tq + 1 : n)) }
    }

    /// float64 post-softmax probabilities of query `(h, tq)` over its visible keys (zero elsewhere).
    func probabilities(h: Int, tq: Int, visible: Int) -> [Double] {
        let s = scores(h: h, tq: tq)
        let m = s[0..<visible].max()!
        var p = [Double](repeating: 0, count: n)
        var sum = 0.0
        for j in 0..<visible { p[j] = Foundation.exp(s[j] - m); sum += p[j] }
        for j in 0..<visible { p[j] /= sum }
        return p
    }
}

/// `||a - b|| / ||b||`.
func relativeError(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var num = 0.0, den = 0.0
    for (x, y) in zip(a, b) { num += (Double(x) - y) * (Double(x) - y); den += y * y }
    return (num / max(den, 1e-300)).squareRoot()
}

/// `||a - b|| / ||b||` between float arrays.
func relativeError(_ a: [Float], _ b: [Float]) -> Double { relativeError(a, b.map(Double.init)) }

/// Brute-force top-k (score desc, position asc), ascending positions.
func bruteTopK(_ s: [Double], _ k: Int) -> [Int] {
    s.indices.sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 }.prefix(k).sorted()
}

import Foundation
