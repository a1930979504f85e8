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
            splits = max(1, min((2 * workers + pairs - 1) / pairs, probe / 256))
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
    /// `q + i * qStride`. Rows are processed in groups of up to four that share each K and V load;
    /// the accumulators of a group live in registers across a block of keys.
    @inline(__always)
    static func accumulate(q: UnsafePointer<Float>, qStride: Int, rows r: Int, kv: KVCacheView, g: Int,
                           set: KeySet, from a: Int, to b: Int, scratch s: AttentionWorkspace.Worker) {
        let d = kv.geometry.headDim
        let scale = kv.geometry.scale
        let C = AttentionWorkspace.chunk
        let keyBase = kv.key(g, 0), valueBase = kv.value(g, 0)
        let off = s.offsets
        var pos = a
        while pos < b {
            let n = min(C, b - pos)
            for j in 0..<n { off[j] = set.position(pos + j) * d }
            if set.indices != nil && pos < set.indexCount { s.touched &+= touch(keyBase, valueBase, off, n, rowFloats: d) }
            var i0 = 0
            while i0 < r {
                let nr = groupSize(r - i0)
                let q0 = q + i0 * qStride
                let q1 = q0 + (nr > 1 ? qStride : 0), q2 = q0 + (nr > 2 ? 2 * qStride : 0), q3 = q0 + (nr > 3 ? 3 * qStride : 0)
                let sc = s.scores + i0 * C
                if nr == 1 {
                    for j in 0..<n { sc[j] = VectorMath.dot(q0, keyBase + off[j], d) * scale }
                } else {
                    for j in 0..<n {
                        let v = dot4(q0, q1, q2, q3, keyBase + off[j], d) * scale
                        for i in 0..<nr { sc[i * C + j] = v[i] }
                    }
                }
                i0 += nr
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
            i0 = 0
            while i0 < r {
                let nr = groupSize(r - i0)
                let sc = s.scores + i0 * C, acc = s.acc + i0 * d
                if nr == 1 {
                    for j in 0..<n { VectorMath.axpy(acc, sc[j], valueBase + off[j], d) }
                } else {
                    let p1 = nr > 1 ? sc + C : s.zeros, p2 = nr > 2 ? sc + 2 * C : s.zeros, p3 = nr > 3 ? sc + 3 * C : s.zeros
                    let a1 = nr > 1 ? acc + d : s.discard, a2 = nr > 2 ? acc + 2 * d : s.discard, a3 = nr > 3 ? acc + 3 * d : s.discard
                    weightedSum4(sc, p1, p2, p3, acc, a1, a2, a3, values: valueBase, offsets: off, count: n, d: d)
                }
                i0 += nr
            }
            pos += n
        }
    }

    /// Loads one float per cache line of the `n` gathered K and V rows before they are used: the loads
    /// are independent, so many misses are in flight at once (a software prefetch for scattered rows).
    @inline(__always)
    static func touch(_ keys: UnsafePointer<Float>, _ values: UnsafePointer<Float>, _ off: UnsafePointer<Int>,
                      _ n: Int, rowFloats d: Int) -> UInt32 {
        var acc: UInt32 = 0
        for j in 0..<n {
            var x = 0
            while x < d {
                acc &+= UnsafeRawPointer(keys + off[j] + x).load(as: UInt32.self)
                acc &+= UnsafeRawPointer(values + off[j] + x).load(as: UInt32.self)
                x += 16
            }
        }
        return acc
    }

    /// Rows in the next group: 4, or 3 / 2 / 1 for the rest (2 and 3 run as a padded group of four).
    @inline(__always) static func groupSize(_ left: Int) -> Int { left >= 4 ? 4 : left }

    /// Four dot products of `k` with `q0 ... q3` over `d` floats, sharing the loads of `k`.
    @inline(__always)
    static func dot4(_ q0: UnsafePointer<Float>, _ q1: UnsafePointer<Float>, _ q2: UnsafePointer<Float>,
                     _ q3: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ d: Int) -> SIMD4<Float> {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var x = 0
        while x + 8 <= d {
            let kx = UnsafeRawPointer(k + x).loadUnaligned(as: SIMD8<Float>.self)
            a0 += UnsafeRawPointer(q0 + x).loadUnaligned(as: SIMD8<Float>.self) * kx
            a1 += UnsafeRawPointer(q1 + x).loadUnaligned(as: SIMD8<Float>.self) * kx
            a2 += UnsafeRawPointer(q2 + x).loadUnaligned(as: SIMD8<Float>.self) * kx
            a3 += UnsafeRawPointer(q3 + x).loadUnaligned(as: SIMD8<Float>.self) * kx
            x += 8
        }
        var out = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
        while x < d {
            out += SIMD4(q0[x], q1[x], q2[x], q3[x]) * k[x]
            x += 1
        }
        return out
    }

    /// `acc_i += sum_j p_i[j] * V[offsets[j]]` for four rows, each 8-float slice of the accumulators
    /// held in registers across the `count` keys.
    @inline(__always)
    static func weightedSum4(_ p0: UnsafePointer<Float>, _ p1: UnsafePointer<Float>, _ p2: UnsafePointer<Float>,
                             _ p3: UnsafePointer<Float>,
                             _ c0: UnsafeMutablePointer<Float>, _ c1: UnsafeMutablePointer<Float>,
                             _ c2: UnsafeMutablePointer<Float>, _ c3: UnsafeMutablePointer<Float>,
                             values: UnsafePointer<Float>, offsets: UnsafePointer<Int>, count n: Int, d: Int) {
        var x = 0
        while x + 8 <= d {
            var a0 = UnsafeRawPointer(c0 + x).loadUnaligned(as: SIMD8<Float>.self)
            var a1 = UnsafeRawPointer(c1 + x).loadUnaligned(as: SIMD8<Float>.self)
            var a2 = UnsafeRawPointer(c2 + x).loadUnaligned(as: SIMD8<Float>.self)
            var a3 = UnsafeRawPointer(c3 + x).loadUnaligned(as: SIMD8<Float>.self)
            for j in 0..<n {
                let v = UnsafeRawPointer(values + offsets[j] + x).loadUnaligned(as: SIMD8<Float>.self)
                a0 += p0[j] * v
                a1 += p1[j] * v
                a2 += p2[j] * v
                a3 += p3[j] * v
            }
            UnsafeMutableRawPointer(c0 + x).storeBytes(of: a0, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(c1 + x).storeBytes(of: a1, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(c2 + x).storeBytes(of: a2, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(c3 + x).storeBytes(of: a3, as: SIMD8<Float>.self)
            x += 8
        }
        while x < d {
            for j in 0..<n {
                let v = values[offsets[j] + x]
                c0[x] += p0[j] * v; c1[x] += p1[j] * v; c2[x] += p2[j] * v; c3[x] += p3[j] * v
            }
            x += 1
        }
    }
}
