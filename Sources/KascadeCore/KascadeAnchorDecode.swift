// Kascade: anchor-layer top-k selection for a few decode queries (Deshmukh et al., arXiv 2512.16391; SPEC 2.2).
import Dispatch

/// The decode anchor scoring of ``KascadeAnchor`` when there are fewer (KV head, query) pairs than
/// cores: each pair's keys are split into slices scored in parallel, in three passes (scores and
/// slice maxima; exponentials and slice sums; the pooled probabilities), then one top-k per pair.
/// The query heads of a KV head share each key load.
enum KascadeAnchorDecode {
    static func select(queries: UnsafePointer<Float>, queryCount T: Int, kv: KVCacheView, heads: Int, k: Int,
                       selection: inout KeySelection, workspace: AttentionWorkspace, workers: Int,
                       scoresOut: UnsafeMutablePointer<Float>?, scoreStride: Int) {
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
        var topScratch: [UnsafeMutablePointer<Int32>] = []
        for w in 0..<min(active, pairs) { topScratch.append(workspace.ints(30 + w, N)) }
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

        // Pass 1: scores and per-slice maxima.
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
            }
        }
        // Pass 2: exponentials against the row maximum, per-slice sums.
        parallel(items) { item in
            let p = item / slices, s = item % slices
            let lo = N * s / slices, hi = N * (s + 1) / slices
            for i in 0..<rowsPerPair {
                var m = -Float.infinity
                for x in 0..<slices { m = max(m, maxima[(p * slices + x) * rowsPerPair + i]) }
                let row = buf + (p * rowsPerPair + i) * N
                sums[item * rowsPerPair + i] = VectorMath.expShiftedSum(row + lo, hi - lo, shift: m)
            }
        }
        // Pass 3: pooled post-softmax probabilities.
        parallel(items) { item in
            let p = item / slices, s = item % slices
            let lo = N * s / slices, hi = N * (s + 1) / slices
            let out = pool + p * N
            for n in lo..<hi { out[n] = 0 }
            for i in 0..<rowsPerPair {
                var l: Float = 0
                for x in 0..<slices { l += sums[(p * slices + x) * rowsPerPair + i] }
                VectorMath.axpy(out + lo, 1 / l, buf + (p * rowsPerPair + i) * N + lo, hi - lo)
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
                        TopK.select(scores: pool + p * N, count: N, k: k, scratch: topScratch[w], into: ib + p * cap)
                        cb[p] = Int32(k)
                        p += n
                    }
                }
                if n == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: n, execute: run) }
            }
        }
    }
}
