#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KascadeCore

/// CPU float32 references of the peer methods for one sequence, built from the core's pieces:
/// Quest's `QuestPageTable` and `QuestAttention.selectPositions` (SPEC 2.3), Twilight's `Int4KeyCache`
/// and `TwilightAttention.topPThreshold` (SPEC 2.4), vAttention's sample-size bound
/// `VAttention.requiredSamples` with the GPU's counter-based sampler (SPEC 2.5), and
/// `IndexedAttentionRow` for attention over a set.
public enum PeerReference {
    /// Quest's choice for each query head: pages (ascending) and the page scores of the full pages.
    public static func questPages(q: UnsafePointer<Float>, kv: KVCacheView, keep: Int) -> (pages: [[Int32]], scores: [[Float]]) {
        let geo = kv.geometry, N = kv.length, d = geo.headDim
        let table = QuestPageTable(pageSize: 16)
        table.update(from: kv)
        let pages = (N + 15) / 16
        var outPages: [[Int32]] = [], outScores: [[Float]] = []
        var sc = [Float](repeating: 0, count: pages), order = [Int32](repeating: 0, count: pages)
        var chosen = [Int32](repeating: 0, count: max(keep, 1)), pos = [Int32](repeating: 0, count: N)
        for h in 0..<geo.queryHeads {
            let g = geo.kvHead(ofQueryHead: h)
            let count = QuestAttention.selectPositions(query: q + h * d, table: table, kvHead: g, length: N,
                                                       pagesToKeep: keep, pageSize: 16, pageScores: &sc, pageOrder: &order,
                                                       chosenPages: &chosen, into: &pos)
            var set: [Int32] = []
            for i in 0..<count where set.last != pos[i] / 16 { set.append(pos[i] / 16) }
            outPages.append(set.sorted())
            var full = [Float](repeating: 0, count: max(pages - 1, 0))
            if pages > 1 { QuestAttention.scorePages(query: q + h * d, table: table, kvHead: g, pageCount: pages - 1, into: &full) }
            outScores.append(full)
        }
        return (outPages, outScores)
    }

    /// One query head's Twilight pruning: its candidates, their weights (exp of the estimate minus
    /// the maximum), the top-p threshold and the kept positions.
    public typealias TwilightHead = (positions: [Int32], weights: [Float], theta: Float, kept: [Int32])

    /// Twilight's pruning for each query head given its candidate positions: the estimated weights
    /// `exp(s - max)` from the 4-bit copy, the threshold, and the kept positions.
    public static func twilightKept(q: UnsafePointer<Float>, kv: KVCacheView, candidates: [[Int32]], topP: Float)
        -> [TwilightHead] {
        let geo = kv.geometry, d = geo.headDim
        let cache = Int4KeyCache()
        cache.update(from: kv)
        var result: [TwilightHead] = []
        for h in 0..<geo.queryHeads {
            let g = geo.kvHead(ofQueryHead: h), qh = q + h * d
            var qSum: Float = 0
            for i in 0..<d { qSum += qh[i] }
            let cand = candidates[h]
            var w = cand.map { p -> Float in
                var acc: Float = 0
                for i in 0..<d { acc += qh[i] * Float(cache.code(g, Int(p), i)) }
                return (cache.zeroPoint(g, Int(p)) * qSum + cache.scale(g, Int(p)) * acc) * geo.scale
            }
            let m = w.max() ?? 0
            for j in w.indices { w[j] = (w[j] - m).exp }
            let theta = w.withUnsafeBufferPointer { TwilightAttention.topPThreshold(weights: $0.baseAddress!, count: w.count, mass: topP) }
            let kept = zip(cand, w).filter { $0.1 >= theta }.map { $0.0 }
            result.append((cand, w, theta, kept))
        }
        return result
    }

    /// Attention of query head `h` over `positions` of its KV head.
    public static func attend(q: UnsafePointer<Float>, kv: KVCacheView, head h: Int, positions: [Int32]) -> [Float] {
        let geo = kv.geometry, d = geo.headDim
        var out = [Float](repeating: 0, count: d)
        guard !positions.isEmpty else { return out }
        var scratch = [Float](repeating: 0, count: positions.count)
        positions.withUnsafeBufferPointer { ip in
            IndexedAttentionRow.attend(q: q + h * d, kv: kv, g: geo.kvHead(ofQueryHead: h), indices: ip.baseAddress!,
                                       count: positions.count, scratch: &scratch, out: &out)
        }
        return out
    }

    /// Exact top-`k` of the middle keys `sinks ..< windowStart` by `q . k` for query head `h`, ascending.
    public static func vattentionTopK(q: UnsafePointer<Float>, kv: KVCacheView, head h: Int, sinks s: Int, windowStart: Int,
                                      k: Int) -> (top: [Int32], scores: [Float]) {
        let geo = kv.geometry, d = geo.headDim, g = geo.kvHead(ofQueryHead: h)
        let middle = windowStart - s
        var sc = [Float](repeating: 0, count: max(middle, 1))
        for j in 0..<middle { sc[j] = dot(q + h * d, kv.key(g, s + j), d) * geo.scale }
        let kk = min(k, middle)
        guard kk > 0 else { return ([], sc) }
        var scratch = [Int32](repeating: 0, count: middle), top = [Int32](repeating: 0, count: kk)
        TopK.select(scores: sc, count: middle, k: kk, scratch: &scratch, into: &top)
        return (top.map { $0 + Int32(s) }, sc)
    }

    /// vAttention's estimate for query head `h` given its deterministic set: residual keys, the pilot
    /// (the 32 smallest sampling keys), `b` from the bound, the sample (the `b` smallest keys) and the output.
    public static func vattentionEstimate(q: UnsafePointer<Float>, kv: KVCacheView, head h: Int, deterministic det: [Int32],
                                          sinks s: Int, windowStart: Int, epsilon: Double, delta: Double, seed: UInt64,
                                          layer: Int) -> (out: [Float], b: Int, residual: Int, sample: [Int32]) {
        let geo = kv.geometry, d = geo.headDim, g = geo.kvHead(ofQueryHead: h), N = kv.length, qh = q + h * d
        let z = VAttentionNormal.inverseCDF(1 - delta / 2)
        let inDet = Set(det)
        let stream = VAttentionSampleKey.stream(seed: seed, layer: layer, head: h, length: N)
        let residual = (s..<windowStart).map { Int32($0) }.filter { !inDet.contains($0) }
            .sorted { (VAttentionSampleKey.key(stream, Int($0)), $0) < (VAttentionSampleKey.key(stream, Int($1)), $1) }
        let nr = residual.count, pilot = min(nr, VAttention.pilotSamples)
        func score(_ p: Int32) -> Float { dot(qh, kv.key(g, Int(p)), d) * geo.scale }
        let detSorted = det.sorted()
        let pilotSet = residual.prefix(pilot).sorted()
        var m = -Float.infinity
        for p in detSorted { m = max(m, score(p)) }
        for p in pilotSet { m = max(m, score(p)) }
        func sums(_ set: [Int32]) -> (den: Float, acc: [Float]) {
            var den: Float = 0
            var acc = [Float](repeating: 0, count: d)
            for p in set {
                let e = (score(p) - m).exp
                den += e
                let v = kv.value(g, Int(p))
                for i in 0..<d { acc[i] += e * v[i] }
            }
            return (den, acc)
        }
        let (denDet, accDet) = sums(detSorted)
        var b = pilot
        if nr > pilot {
            let (denSmp, accSmp) = sums(pilotSet)
            var sumE2 = 0.0, sumX2 = 0.0
            for p in pilotSet {
                let e = Double((score(p) - m).exp)
                let v = kv.value(g, Int(p))
                sumE2 += e * e
                sumX2 += e * e * Double(dot(v, v, d))
            }
            let bp = Double(pilot)
            var sampleNorm2 = 0.0, estimateNorm2 = 0.0
            for i in 0..<d {
                let a = Double(accSmp[i])
                sampleNorm2 += a * a
                let e = Double(accDet[i]) + Double(nr) * a / bp
                estimateNorm2 += e * e
            }
            let varD = max(0, (sumE2 - Double(denSmp) * Double(denSmp) / bp) / (bp - 1))
            let varN = max(0, (sumX2 - sampleNorm2 / bp) / (bp - 1))
            let bD = VAttention.requiredSamples(population: nr, sigma: varD.squareRoot(),
                                                tau: epsilon * (Double(denDet) + Double(nr) * Double(denSmp) / bp), z: z)
            let bN = VAttention.requiredSamples(population: nr, sigma: varN.squareRoot(), tau: epsilon * estimateNorm2.squareRoot(), z: z)
            b = min(nr, max(pilot, bD, bN))
        }
        let sample = residual.prefix(b).sorted()
        let (denS, accS) = sums(sample)
        let w: Float = b > 0 ? Float(nr) / Float(b) : 0
        let inv = 1 / (denDet + w * denS)
        return ((0..<d).map { (accDet[$0] + w * accS[$0]) * inv }, b, nr, sample)
    }

    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var s: Float = 0
        for i in 0..<d { s += a[i] * b[i] }
        return s
    }
}
