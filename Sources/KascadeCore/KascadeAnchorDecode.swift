// Kascade: anchor-layer top-k selection for a few decode queries (Deshmukh et al., arXiv 2512.16391; SPEC 2.2).
import Dispatch

/// The decode anchor scoring of ``KascadeAnchor`` for a few queries (one per decode step): each
/// (KV head, query) pair's keys are split into slices scored in parallel, in two passes (scores, slice
/// maxima and exponentials against them with their sums; the pooled probabilities), then one top-k per pair.
/// The query heads of a KV head share each key load. With `output` (`[H, T, d]`), the second pass also
/// accumulates the exact dense attention output from the same probabilities (Kascade's layer 0: the
/// keys are scored once for both the dense output and the selection).
enum KascadeAnchorDecode {
    static func select(queries: UnsafePointer<Float>, queryCount T: Int, kv: KVCacheView, heads: Int, k: Int,
                       selection: inout KeySelection, workspace: AttentionWorkspace, workers: Int,
                       scoresOut: UnsafeMutablePointer<Float>?, scoreStride: Int,
                       output: UnsafeMutablePointer<Float>? = nil) {
        let geo = kv.geometry, N = kv.length, d = geo.headDim, r = geo.groupSize
        let rowsPerPair = heads == 1 ? geo.queryHeads : r
        let pairs = heads * T
        let slices = max(1, min((2 * max(workers, 1) + pairs - 1) / pairs, N / 512))
        let items = pairs * slices
        let active = max(1, min(workers, items))
        let buf = workspace.floats(30, pairs * rowsPerPair * N)
        let pool = workspace.floats(31, pairs * N)
        let maxima = workspace.floats(32, items * rowsPerPair)
        let sums = workspace.floats(33, items * rowsPerPair)
        let topScratch = workspace.ints(30, min(active, pairs) * N)
        let partial = output == nil ? nil : Optional(workspace.floats(34, items * rowsPerPair * d))
        let discard = workspace.floats(35, d)
        let scale = geo.scale

        /// Runs `body(item)` for every item over the active workers.
        func parallel(_ count: Int, _ body: (Int) -> Void) {
            let n = max(1, min(active, count))
            if n == 1 { for i in 0..<count { body(i) }; return }
            DispatchQueue.concurrentPerform(iterations: n) { w in
                var i = w
                while i < count { body(i); i += n }
            }
        }
        // Query head of row `i` of pair `p` (pair = (set head, query)).
        @inline(__always) func head(_ p: Int, _ i: Int) -> Int { heads == 1 ? i : (p / T) * r + i }

        // Pass 1: scores, then per slice and row the maximum and the exponentials against it with their sum.
        parallel(items) { item in
            let p = item / slices, s = item % slices, t = p % T
            let lo = N * s / slices, hi = N * (s + 1) / slices
            let rows = buf + p * rowsPerPair * N
            var i0 = 0
            while i0 < rowsPerPair {
                let h0 = head(p, i0), g = geo.kvHead(ofQueryHead: h0)
                // Rows sharing KV head g, up to four at a time.
                var nr = 1
                while nr < 4, i0 + nr < rowsPerPair, geo.kvHead(ofQueryHead: head(p, i0 + nr)) == g { nr += 1 }
                let q0 = queries + (h0 * T + t) * d
                let q1 = nr > 1 ? queries + ((h0 + 1) * T + t) * d : q0
                let q2 = nr > 2 ? queries + ((h0 + 2) * T + t) * d : q0
                let q3 = nr > 3 ? queries + ((h0 + 3) * T + t) * d : q0
                var n = lo
                while n < hi {
                    let v = AttentionEngine.dot4(q0, q1, q2, q3, kv.key(g, n), d) * scale
                    for i in 0..<nr { rows[(i0 + i) * N + n] = v[i] }
                    n += 1
                }
                i0 += nr
            }
            for i in 0..<rowsPerPair {
                var m = -Float.infinity
                let row = rows + i * N
                for n in lo..<hi { m = max(m, row[n]) }
                maxima[item * rowsPerPair + i] = m
                sums[item * rowsPerPair + i] = m > -.infinity ? VectorMath.expShiftedSum(row + lo, hi - lo, shift: m) : 0
            }
        }
        /// Weight of slice `item`'s exponentials in row `i`'s softmax: `e^(m_slice - m_row) / l_row`.
        @inline(__always) func weight(_ item: Int, _ i: Int) -> Float {
            let p = item / slices
            var m = -Float.infinity
            for x in 0..<slices { m = max(m, maxima[(p * slices + x) * rowsPerPair + i]) }
            var l: Float = 0
            for x in 0..<slices {
                let j = (p * slices + x) * rowsPerPair + i
                if sums[j] > 0 { l += sums[j] * (maxima[j] - m).exp }
            }
            let own = item * rowsPerPair + i
            return sums[own] > 0 && l > 0 ? (maxima[own] - m).exp / l : 0
        }
        // Pass 2: pooled post-softmax probabilities (and, for the dense output, the slice's P V).
        parallel(items) { item in
            let p = item / slices, s = item % slices
            let lo = N * s / slices, hi = N * (s + 1) / slices
            let out = pool + p * N
            for n in lo..<hi { out[n] = 0 }
            for i in 0..<rowsPerPair {
                VectorMath.axpy(out + lo, weight(item, i), buf + (p * rowsPerPair + i) * N + lo, hi - lo)
            }
            guard let partial else { return }
            // Unnormalised P V of the slice, rows sharing a KV head four at a time.
            let acc = partial + item * rowsPerPair * d
            for x in 0..<(rowsPerPair * d) { acc[x] = 0 }
            var i0 = 0
            while i0 < rowsPerPair {
                let g = geo.kvHead(ofQueryHead: head(p, i0))
                var nr = 1
                while nr < 4, i0 + nr < rowsPerPair, geo.kvHead(ofQueryHead: head(p, i0 + nr)) == g { nr += 1 }
                let row = buf + (p * rowsPerPair + i0) * N + lo
                let a0 = acc + i0 * d
                let p1 = nr > 1 ? row + N : row, p2 = nr > 2 ? row + 2 * N : row, p3 = nr > 3 ? row + 3 * N : row
                let a1 = nr > 1 ? a0 + d : discard, a2 = nr > 2 ? a0 + 2 * d : discard, a3 = nr > 3 ? a0 + 3 * d : discard
                var j = 0
                while j < hi - lo {   // blocks of 128 value rows stay in L1 across the 8-float passes
                    let n = min(128, hi - lo - j)
                    KascadeAnchorDecode.weightedSum4(row + j, p1 + j, p2 + j, p3 + j, a0, a1, a2, a3,
                                                     values: kv.value(g, lo + j), count: n, d: d)
                    j += n
                }
                i0 += nr
            }
        }
        if let partial, let output {
            for p in 0..<pairs {
                let t = p % T
                for i in 0..<rowsPerPair {
                    let out = output + (head(p, i) * T + t) * d
                    for x in 0..<d { out[x] = 0 }
                    for x in 0..<slices {
                        let item = p * slices + x
                        VectorMath.axpy(out, weight(item, i), partial + (item * rowsPerPair + i) * d, d)
                    }
                }
            }
        }
        // Top-k per pair; pair p = (set head p / T, query p % T) is selection row (p / T, p % T).
        let cap = selection.capacity
        selection.indices.withUnsafeMutableBufferPointer { idx in
            selection.counts.withUnsafeMutableBufferPointer { counts in
                let ib = idx.baseAddress!, cb = counts.baseAddress!
                let n = min(active, pairs)
                let run = { (w: Int) in
                    var p = w
                    while p < pairs {
                        if let o = scoresOut { for x in 0..<N { o[p * scoreStride + x] = pool[p * N + x] } }
                        TopK.select(scores: pool + p * N, count: N, k: k, scratch: topScratch + w * N, into: ib + p * cap)
                        cb[p] = Int32(k)
                        p += n
                    }
                }
                if n == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: n, execute: run) }
            }
        }
    }

    /// `c_i += sum_j p_i[j] * V[j]` over `count` contiguous value rows of `d` floats, for four rows;
    /// each 8-float slice of the accumulators is held in registers across the keys.
    @inline(__always)
    static func weightedSum4(_ p0: UnsafePointer<Float>, _ p1: UnsafePointer<Float>, _ p2: UnsafePointer<Float>,
                             _ p3: UnsafePointer<Float>,
                             _ c0: UnsafeMutablePointer<Float>, _ c1: UnsafeMutablePointer<Float>,
                             _ c2: UnsafeMutablePointer<Float>, _ c3: UnsafeMutablePointer<Float>,
                             values: UnsafePointer<Float>, count n: Int, d: Int) {
        var x = 0
        while x + 8 <= d {
            var a0 = UnsafeRawPointer(c0 + x).loadUnaligned(as: SIMD8<Float>.self)
            var a1 = UnsafeRawPointer(c1 + x).loadUnaligned(as: SIMD8<Float>.self)
            var a2 = UnsafeRawPointer(c2 + x).loadUnaligned(as: SIMD8<Float>.self)
            var a3 = UnsafeRawPointer(c3 + x).loadUnaligned(as: SIMD8<Float>.self)
            var v = values + x
            for j in 0..<n {
                let vx = UnsafeRawPointer(v).loadUnaligned(as: SIMD8<Float>.self)
                a0 += p0[j] * vx
                a1 += p1[j] * vx
                a2 += p2[j] * vx
                a3 += p3[j] * vx
                v += d
            }
            UnsafeMutableRawPointer(c0 + x).storeBytes(of: a0, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(c1 + x).storeBytes(of: a1, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(c2 + x).storeBytes(of: a2, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(c3 + x).storeBytes(of: a3, as: SIMD8<Float>.self)
            x += 8
        }
        while x < d {
            for j in 0..<n {
                let v = values[j * d + x]
                c0[x] += p0[j] * v; c1[x] += p1[j] * v; c2[x] += p2[j] * v; c3[x] += p3[j] * v
            }
            x += 1
        }
    }
}
