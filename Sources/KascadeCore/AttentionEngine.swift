import Dispatch

/// The one attention loop behind dense and sparse attention on the CPU.
///
/// A job is one KV head `g` and one query position `t`: the `g`'s group of query heads share K/V
/// reads. Each job sees a key set (an index list, then a contiguous range); when there are fewer
/// jobs than workers, a job's keys are split (flash-decoding) and the partial softmax states are
/// merged. Keys are scored in blocks of ``AttentionWorkspace/chunk`` with an online softmax.
enum AttentionEngine {
    /// Keys of one job: `indices[0 ..< indexCount]`, then positions `lo ..< hi`.
    struct KeySet {
        var indices: UnsafePointer<Int32>?
        var indexCount: Int
        var lo: Int
        var hi: Int
        @inline(__always) var total: Int { indexCount + hi - lo }
        @inline(__always) func position(_ j: Int) -> Int {
            j < indexCount ? Int(indices![j]) : lo + j - indexCount
        }
    }

    /// Runs attention; `queries`/`output` are `[H, T, d]`. `keys(g, t)` names the keys of a job and
    /// must be safe to call concurrently. Returns the keys read, summed over query heads and queries.
    @discardableResult
    static func run(queries: UnsafePointer<Float>, queryCount T: Int, kv: KVCacheView,
                    workspace: AttentionWorkspace, workers requested: Int,
                    output: UnsafeMutablePointer<Float>,
                    keys: (_ g: Int, _ t: Int) -> KeySet) -> Double {
        let geo = kv.geometry
        let G = geo.kvHeads, r = geo.groupSize, d = geo.headDim
        let pairs = G * T
        guard pairs > 0 else { return 0 }
        let workers = max(1, requested)
        var splits = 1
        if pairs < 2 * workers {
            let probe = keys(0, T - 1).total
            splits = max(1, min((2 * workers + pairs - 1) / pairs, probe / 512))
        }
        let jobs = pairs * splits
        let stride = r * (d + 2)
        workspace.prepare(workers: min(workers, jobs), rows: r, headDim: d, partialFloats: splits > 1 ? jobs * stride : 0)
        let partials = workspace.partials
        let active = min(workers, jobs)
        withoutActuallyEscaping(keys) { keys in
            let body = { (w: Int) in
                let s = workspace.workers[w]
                var job = w
                var count = 0
                while job < jobs {
                    let pair = job / splits, part = job % splits
                    let g = pair / T, t = pair % T
                    let set = keys(g, t)
                    let total = set.total
                    let a = total * part / splits, b = total * (part + 1) / splits
                    count += b - a
                    let q = queries + (g * r * T + t) * d
                    for i in 0..<r { s.maxima[i] = -.infinity; s.sums[i] = 0 }
                    for i in 0..<(r * d) { s.acc[i] = 0 }
                    accumulate(q: q, qStride: T * d, rows: r, kv: kv, g: g, set: set, from: a, to: b, scratch: s)
                    if splits == 1 {
                        for i in 0..<r {
                            let out = output + ((g * r + i) * T + t) * d
                            let l = s.sums[i]
                            let inv: Float = l > 0 ? 1 / l : 0
                            for x in 0..<d { out[x] = s.acc[i * d + x] * inv }
                        }
                    } else {
                        let p = partials! + job * stride
                        for i in 0..<r {
                            p[i * (d + 2)] = s.maxima[i]
                            p[i * (d + 2) + 1] = s.sums[i]
                            for x in 0..<d { p[i * (d + 2) + 2 + x] = s.acc[i * d + x] }
                        }
                    }
                    job += active
                }
                s.keysRead = count * r
            }
            if active == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: active, execute: body) }
        }
        if splits > 1 {
            let p = partials!
            for pair in 0..<pairs {
                let g = pair / T, t = pair % T
                for i in 0..<r {
                    var m = -Float.infinity
                    for part in 0..<splits { m = max(m, p[(pair * splits + part) * stride + i * (d + 2)]) }
                    let out = output + ((g * r + i) * T + t) * d
                    for x in 0..<d { out[x] = 0 }
                    var l: Float = 0
                    if m > -.infinity {
                        for part in 0..<splits {
                            let base = p + (pair * splits + part) * stride + i * (d + 2)
                            guard base[1] > 0 else { continue }
                            let c = (base[0] - m).exp
                            l += base[1] * c
                            VectorMath.axpy(out, c, base + 2, d)
                        }
                    }
                    let inv: Float = l > 0 ? 1 / l : 0
                    VectorMath.scale(out, inv, d)
                }
            }
        }
        var read = 0
        for w in 0..<active { read += workspace.workers[w].keysRead }
        return Double(read)
    }

    /// Folds keys `set[a ..< b]` into the online-softmax state in `scratch` for `rows` query rows at
    /// `q + i * qStride`.
    @inline(__always)
    static func accumulate(q: UnsafePointer<Float>, qStride: Int, rows r: Int, kv: KVCacheView, g: Int,
                           set: KeySet, from a: Int, to b: Int, scratch s: AttentionWorkspace.Worker) {
        let d = kv.geometry.headDim
        let scale = kv.geometry.scale
        let C = AttentionWorkspace.chunk
        var pos = a
        while pos < b {
            let n = min(C, b - pos)
            if set.indices == nil || pos >= set.indexCount {
                let base = set.lo + pos - set.indexCount
                for j in 0..<n {
                    let k = kv.key(g, base + j)
                    for i in 0..<r { s.scores[i * C + j] = VectorMath.dot(q + i * qStride, k, d) * scale }
                }
            } else {
                for j in 0..<n {
                    let k = kv.key(g, set.position(pos + j))
                    for i in 0..<r { s.scores[i * C + j] = VectorMath.dot(q + i * qStride, k, d) * scale }
                }
            }
            for i in 0..<r {
                let row = s.scores + i * C
                var cm = -Float.infinity
                for j in 0..<n { cm = max(cm, row[j]) }
                let old = s.maxima[i]
                let m = max(old, cm)
                if old > -.infinity && old < m {
                    let c = (old - m).exp
                    s.sums[i] *= c
                    VectorMath.scale(s.acc + i * d, c, d)
                }
                s.maxima[i] = m
                s.sums[i] += VectorMath.expShiftedSum(row, n, shift: m)
            }
            if set.indices == nil || pos >= set.indexCount {
                let base = set.lo + pos - set.indexCount
                for j in 0..<n {
                    let v = kv.value(g, base + j)
                    for i in 0..<r { VectorMath.axpy(s.acc + i * d, s.scores[i * C + j], v, d) }
                }
            } else {
                for j in 0..<n {
                    let v = kv.value(g, set.position(pos + j))
                    for i in 0..<r { VectorMath.axpy(s.acc + i * d, s.scores[i * C + j], v, d) }
                }
            }
            pos += n
        }
    }
}
