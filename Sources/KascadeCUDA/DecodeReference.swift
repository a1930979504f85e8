#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KascadeCore

/// CPU float32 reference for one decode step of a batch (the check's ground truth).
///
/// Dense output through `DenseAttention`; Kascade's anchor selection through the core's
/// `KascadeAnchor.decode` (SPEC 2.2: per KV head the sum over the group's heads of the post-softmax
/// probabilities, exact top-k, lower position first on ties); attention over index lists through
/// `IndexedAttentionRow`.
struct Reference {
    let q: [Float], k: [Float], v: [Float]
    let geo: AttentionGeometry
    let batch: Int, length: Int, budget: Int
    /// Dense output `[B, H, d]`.
    let dense: [Float]
    /// Log-sum-exp of the scaled scores `[B, H]`.
    let lse: [Float]
    /// Pooled probabilities `[B, G, N]`.
    let pooled: [Float]
    /// CPU top-k `[B, G, k]`, ascending.
    let topk: [Int32]

    /// `budget` must be `Budget().keys(outOf: N)` (the default budget, which the core selection uses).
    init(q: [Float], k: [Float], v: [Float], geo: AttentionGeometry, batch B: Int, length N: Int, budget: Int) {
        self.q = q; self.k = k; self.v = v; self.geo = geo; batch = B; length = N; self.budget = budget
        let H = geo.queryHeads, G = geo.kvHeads, d = geo.headDim
        var dense = [Float](repeating: 0, count: B * H * d)
        k.withUnsafeBufferPointer { kp in
            v.withUnsafeBufferPointer { vp in
                q.withUnsafeBufferPointer { qp in
                    dense.withUnsafeMutableBufferPointer { op in
                        for b in 0..<B {
                            let view = KVCacheView(keys: kp.baseAddress! + b * G * N * d, values: vp.baseAddress! + b * G * N * d,
                                                   length: N, capacity: N, geometry: geo)
                            DenseAttention.compute(queries: qp.baseAddress! + b * H * d, queryCount: 1, kv: view,
                                                   output: op.baseAddress! + b * H * d)
                        }
                    }
                }
            }
        }
        self.dense = dense
        var lse = [Float](repeating: 0, count: B * H)
        var pooled = [Float](repeating: 0, count: B * G * N)
        var topk = [Int32](repeating: 0, count: B * G * budget)
        let scale = geo.scale
        lse.withUnsafeMutableBufferPointer { lp in
            let lb = lp.baseAddress!
            DispatchQueue.concurrentPerform(iterations: B * H) { row in
                let b = row / H, h = row % H, g = geo.kvHead(ofQueryHead: h)
                var s = [Float](repeating: 0, count: N)
                var m = -Float.infinity
                for n in 0..<N {
                    var acc: Float = 0
                    for i in 0..<d { acc += q[(b * H + h) * d + i] * k[((b * G + g) * N + n) * d + i] }
                    s[n] = acc * scale
                    m = max(m, s[n])
                }
                var sum: Float = 0
                for n in 0..<N { sum += (s[n] - m).exp }
                lb[row] = m + log(sum)
            }
        }
        // Kascade's anchor selection from the core (KascadeAnchor.decode), one sequence at a time.
        let workspace = AttentionWorkspace()
        k.withUnsafeBufferPointer { kp in
            v.withUnsafeBufferPointer { vp in
                q.withUnsafeBufferPointer { qp in
                    pooled.withUnsafeMutableBufferPointer { pp in
                        for b in 0..<B {
                            let view = KVCacheView(keys: kp.baseAddress! + b * G * N * d, values: vp.baseAddress! + b * G * N * d,
                                                   length: N, capacity: N, geometry: geo)
                            var sel = KeySelection(heads: G, rows: 1, capacity: budget)
                            KascadeAnchor.decode(queries: qp.baseAddress! + b * H * d, queryCount: 1, kv: view,
                                                 budget: try! Budget(),
                                                 pooled: false, into: &sel, workspace: workspace,
                                                 scores: pp.baseAddress! + b * G * N, scoreStride: N)
                            for g in 0..<G {
                                let row = Array(sel.positions(head: g, row: 0))
                                for i in 0..<budget { topk[(b * G + g) * budget + i] = row[i] }
                            }
                        }
                    }
                }
            }
        }
        self.lse = lse
        self.pooled = pooled
        self.topk = topk
    }

    /// Attention of every query head over `count` indices of row `headMap[g]` of `indices [B, Ga, count]`.
    func sparse(indices: [Int32], idxHeads: Int, count: Int, headMap: [Int]) -> [Float] {
        let H = geo.queryHeads, G = geo.kvHeads, d = geo.headDim, N = length
        var out = [Float](repeating: 0, count: batch * H * d)
        var scratch = [Float](repeating: 0, count: count)
        for b in 0..<batch {
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    let view = KVCacheView(keys: kp.baseAddress! + b * G * N * d, values: vp.baseAddress! + b * G * N * d,
                                           length: N, capacity: N, geometry: geo)
                    for h in 0..<H {
                        let g = geo.kvHead(ofQueryHead: h)
                        let row = (b * idxHeads + headMap[g]) * count
                        let valid = indices[row..<(row + count)].allSatisfy { $0 >= 0 && Int($0) < N }
                        guard valid else { continue }
                        q.withUnsafeBufferPointer { qp in
                            indices.withUnsafeBufferPointer { ip in
                                out.withUnsafeMutableBufferPointer { op in
                                    scratch.withUnsafeMutableBufferPointer { sp in
                                        IndexedAttentionRow.attend(q: qp.baseAddress! + (b * H + h) * d, kv: view, g: g,
                                                                   indices: ip.baseAddress! + row, count: count,
                                                                   scratch: sp.baseAddress!, out: op.baseAddress! + (b * H + h) * d)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Compares a GPU selection `[B, G, k]` with the CPU's: validity (ascending, in range), mean
    /// agreement, and mismatches that are not near-ties of the CPU's k-th pooled value.
    func compare(_ gpu: [Int32], k: Int) -> (valid: Bool, agreement: Double, hard: Int) {
        let G = geo.kvHeads, N = length
        var valid = true, agree = 0.0, hard = 0
        for row in 0..<(batch * G) {
            let a = gpu[(row * k)..<(row * k + k)], r = Set(topk[(row * k)..<(row * k + k)])
            var prev: Int32 = -1
            for x in a { if x <= prev || Int(x) >= N { valid = false }; prev = x }
            guard valid else { continue }
            let prow = pooled[(row * N)..<(row * N + N)]
            let kth = r.map { prow[row * N + Int($0)] }.min() ?? 0
            var same = 0
            for x in a {
                if r.contains(x) { same += 1; continue }
                let p = prow[row * N + Int(x)]
                if abs(p - kth) > 1e-4 * kth + 1e-7 { hard += 1 }
            }
            agree += Double(same) / Double(k)
        }
        return (valid, agree / Double(batch * G), hard)
    }
}
