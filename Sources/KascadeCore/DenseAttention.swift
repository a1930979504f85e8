import Dispatch

/// Exact softmax attention over every visible key: the reference all other methods are measured against.
///
/// Causal, bottom-right aligned (see ``AttentionPolicy``). Work is split over query heads and
/// queries across all cores.
public final class DenseAttention: AttentionPolicy {
    public let name = "dense"
    public private(set) var stats = AttentionStats()

    public init() {}

    public func reset() { stats = AttentionStats() }

    public func attend(layer: Int, queries: UnsafePointer<Float>, queryCount: Int,
                       kv: KVCacheView, output: UnsafeMutablePointer<Float>) throws {
        DenseAttention.compute(queries: queries, queryCount: queryCount, kv: kv, output: output)
        let n = Double(kv.length), t = Double(queryCount)
        let perHead = t * n - t * (t - 1) / 2
        let dense = perHead * Double(kv.geometry.queryHeads)
        stats.record(keys: dense, dense: dense)
    }

    /// Dense causal attention, `queries` and `output` `[H, T, d]`.
    public static func compute(queries: UnsafePointer<Float>, queryCount: Int,
                               kv: KVCacheView, output: UnsafeMutablePointer<Float>) {
        let geo = kv.geometry
        let d = geo.headDim, T = queryCount, N = kv.length
        precondition(T <= N, "queries \(T) exceed keys \(N)")
        let jobs = geo.queryHeads * T
        let workers = min(jobs, ProcessInfoCores.count)
        let perWorker = (jobs + workers - 1) / max(workers, 1)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var scores = [Float](repeating: 0, count: N)
            let lo = w * perWorker, hi = min(jobs, lo + perWorker)
            guard lo < hi else { return }
            for job in lo..<hi {
                let h = job / T, t = job % T
                let g = geo.kvHead(ofQueryHead: h)
                let visible = N - T + t + 1
                let q = queries + (h * T + t) * d
                let out = output + (h * T + t) * d
                scores.withUnsafeMutableBufferPointer { s in
                    attendRow(q: q, kv: kv, g: g, count: visible, scores: s.baseAddress!, out: out)
                }
            }
        }
    }

    /// One query row over keys `0 ..< count` of KV head `g`: `out = softmax(q K^T * scale) V`.
    @inlinable
    static func attendRow(q: UnsafePointer<Float>, kv: KVCacheView, g: Int, count: Int,
                          scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let d = kv.geometry.headDim
        let scale = kv.geometry.scale
        var m = -Float.infinity
        for n in 0..<count {
            let k = kv.key(g, n)
            var acc: Float = 0
            for i in 0..<d { acc += q[i] * k[i] }
            acc *= scale
            scores[n] = acc
            m = max(m, acc)
        }
        var sum: Float = 0
        for n in 0..<count {
            let e = (scores[n] - m).exp
            scores[n] = e
            sum += e
        }
        for i in 0..<d { out[i] = 0 }
        let inv = 1 / sum
        for n in 0..<count {
            let v = kv.value(g, n)
            let p = scores[n] * inv
            for i in 0..<d { out[i] += p * v[i] }
        }
    }
}
