import Testing
@testable import KascadeCore

/// A head layout and context length the sparse-method tests run over.
struct PeerShape: Sendable, CustomStringConvertible {
    let queryHeads: Int, kvHeads: Int, headDim: Int, length: Int
    var description: String { "H\(queryHeads) G\(kvHeads) d\(headDim) N\(length)" }

    /// MHA, GQA (the default model's 9/3/64), odd head dims, lengths that are not multiples of 16.
    static let all: [PeerShape] = [
        PeerShape(queryHeads: 1, kvHeads: 1, headDim: 8, length: 1),
        PeerShape(queryHeads: 4, kvHeads: 4, headDim: 16, length: 37),
        PeerShape(queryHeads: 9, kvHeads: 3, headDim: 64, length: 300),
        PeerShape(queryHeads: 8, kvHeads: 2, headDim: 24, length: 129),
        PeerShape(queryHeads: 6, kvHeads: 1, headDim: 5, length: 200),
    ]
}

/// Seeded test randomness: SplitMix64 with Box–Muller normals.
struct PeerRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }
    mutating func normal() -> Float {
        let u = uniform(), v = uniform()
        return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }
    mutating func normals(_ n: Int, mean: Float = 0, sd: Float = 1) -> [Float] {
        (0..<n).map { _ in mean + sd * normal() }
    }
}

/// Random keys and values of one layer (`[G, capacity, d]`) and helpers to run a policy on them.
struct PeerFixture {
    let geo: AttentionGeometry
    let capacity: Int
    var keys: [Float]
    var values: [Float]

    init(_ shape: PeerShape, capacity: Int? = nil, seed: UInt64, keySD: Float = 1, valueMean: Float = 0) throws {
        geo = try AttentionGeometry(queryHeads: shape.queryHeads, kvHeads: shape.kvHeads, headDim: shape.headDim)
        self.capacity = capacity ?? shape.length + 3
        var rng = PeerRandom(seed)
        let count = shape.kvHeads * self.capacity * shape.headDim
        keys = rng.normals(count, sd: keySD)
        values = rng.normals(count, mean: valueMean)
    }

    func withView<R>(length: Int, _ body: (KVCacheView) throws -> R) rethrows -> R {
        try keys.withUnsafeBufferPointer { k in
            try values.withUnsafeBufferPointer { v in
                try body(KVCacheView(keys: k.baseAddress!, values: v.baseAddress!, length: length,
                                     capacity: capacity, geometry: geo))
            }
        }
    }

    func queries(_ t: Int, seed: UInt64, sd: Float = 1) -> [Float] {
        var rng = PeerRandom(seed)
        return rng.normals(geo.queryHeads * t * geo.headDim, sd: sd)
    }

    /// `policy` on `[H, T, d]` queries over the first `length` positions; returns `[H, T, d]`.
    func run(_ policy: AttentionPolicy, layer: Int, queries: [Float], count t: Int, length: Int) throws -> [Float] {
        var out = [Float](repeating: .nan, count: geo.queryHeads * t * geo.headDim)
        try withView(length: length) { kv in
            try policy.attend(layer: layer, queries: queries, queryCount: t, kv: kv, output: &out)
        }
        return out
    }

    func key(_ g: Int, _ n: Int) -> ArraySlice<Float> {
        keys[((g * capacity + n) * geo.headDim)..<((g * capacity + n + 1) * geo.headDim)]
    }

    func value(_ g: Int, _ n: Int) -> ArraySlice<Float> {
        values[((g * capacity + n) * geo.headDim)..<((g * capacity + n + 1) * geo.headDim)]
    }

    /// Float64 softmax attention of one query row over `positions` of KV head `g`, each term weighted.
    func reference(query q: ArraySlice<Float>, g: Int, positions: [Int], weights: [Double]? = nil) -> [Double] {
        let scale = 1 / Double(geo.headDim).squareRoot()
        let s = positions.map { n in zip(q, key(g, n)).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } * scale }
        let m = s.max() ?? 0
        var out = [Double](repeating: 0, count: geo.headDim)
        var den = 0.0
        for (j, n) in positions.enumerated() {
            let e = peerExp(s[j] - m) * (weights?[j] ?? 1)
            den += e
            for (i, x) in value(g, n).enumerated() { out[i] += e * Double(x) }
        }
        return out.map { $0 / den }
    }

    /// Largest over rows of `|a - b| / |b|`; both `[rows, d]`.
    static func relativeError(_ a: [Float], _ b: [Double], headDim d: Int) -> Double {
        var worst = 0.0
        for r in 0..<(b.count / d) {
            var diff = 0.0, norm = 0.0
            for i in 0..<d {
                let x = Double(a[r * d + i]), y = b[r * d + i]
                diff += (x - y) * (x - y)
                norm += y * y
            }
            worst = max(worst, (diff / max(norm, 1e-30)).squareRoot())
        }
        return worst
    }

    static func relativeError(_ a: [Float], _ b: [Float], headDim d: Int) -> Double {
        relativeError(a, b.map(Double.init), headDim: d)
    }

    /// `policy` against ``DenseAttention`` on the same inputs: the relative error, decode
    /// (a prefill of `N - 3` keys, then three decode steps, the worst of them) and prefill
    /// (chunks of 7 and of the whole context).
    func compareWithDense(_ policy: AttentionPolicy, layer: Int, seed: UInt64) throws -> (decode: Double, prefill: Double) {
        let n = capacity - 3
        var decode = 0.0, prefill = 0.0
        policy.reset()
        let start = max(1, n - 3)
        let q0 = queries(start, seed: seed)
        _ = try run(policy, layer: layer, queries: q0, count: start, length: start)
        for len in (start + 1)...max(start + 1, n) where len <= n {
            let q = queries(1, seed: seed &+ UInt64(len))
            let got = try run(policy, layer: layer, queries: q, count: 1, length: len)
            let want = try run(DenseAttention(), layer: layer, queries: q, count: 1, length: len)
            decode = max(decode, Self.relativeError(got, want, headDim: geo.headDim))
        }
        if n == 1 {
            let q = queries(1, seed: seed)
            policy.reset()
            let got = try run(policy, layer: layer, queries: q, count: 1, length: 1)
            let want = try run(DenseAttention(), layer: layer, queries: q, count: 1, length: 1)
            decode = Self.relativeError(got, want, headDim: geo.headDim)
        }
        for t in Set([min(7, n), n]) {
            policy.reset()
            let q = queries(t, seed: seed &+ 99)
            let got = try run(policy, layer: layer, queries: q, count: t, length: n)
            let want = try run(DenseAttention(), layer: layer, queries: q, count: t, length: n)
            prefill = max(prefill, Self.relativeError(got, want, headDim: geo.headDim))
        }
        return (decode, prefill)
    }
}

#if canImport(Glibc)
import Glibc
func peerExp(_ x: Double) -> Double { Glibc.exp(x) }
#else
import Darwin
func peerExp(_ x: Double) -> Double { Darwin.exp(x) }
#endif
