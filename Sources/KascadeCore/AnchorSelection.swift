// Kascade anchor selection by dynamic programming (Deshmukh et al., arXiv 2512.16391; SPEC 2.2).

/// Chooses Kascade's anchor layers and head maps from calibration statistics.
///
/// With layer scores `sim[i][j]` (`i <= j`: how well anchor `i` serves layer `j`), pick `K` anchors,
/// layer 0 forced, maximising `sum_j sim[a(j)][j]` where `a(j)` is the last anchor at or before `j`:
/// the anchors cut the layers into `K` contiguous segments, each served by its first layer.
public enum AnchorSelection {
    /// The best `K` anchors and their total score, by dynamic programming in `O(K L^2)`.
    ///
    /// `f[c][e]` is the best score of layers `0 ..< e` split into `c` segments; a segment `s ..< e`
    /// scores `sum_(j in s..<e) sim[s][j]`. Ties keep the earliest segment start.
    public static func best(sim: [[Double]], anchors K: Int) throws(AttentionError) -> (anchors: [Int], score: Double) {
        let L = sim.count
        guard L > 0, sim.allSatisfy({ $0.count == L }) else { throw .badShape("similarity must be L x L, got \(sim.map(\.count))") }
        guard K >= 1, K <= L else { throw .badArgument("\(K) anchors for \(L) layers") }
        // prefix[s][e] = sum_(j in s..<e) sim[s][j]
        var prefix = [[Double]](repeating: [Double](repeating: 0, count: L + 1), count: L)
        for s in 0..<L { for e in (s + 1)...L { prefix[s][e] = prefix[s][e - 1] + sim[s][e - 1] } }
        var f = [[Double]](repeating: [Double](repeating: -.infinity, count: L + 1), count: K + 1)
        var from = [[Int]](repeating: [Int](repeating: -1, count: L + 1), count: K + 1)
        for e in 1...L { f[1][e] = prefix[0][e]; from[1][e] = 0 }
        if K >= 2 {
            for c in 2...K {
                for e in c...L {
                    for s in (c - 1)..<e where f[c - 1][s] > -.infinity {
                        let v = f[c - 1][s] + prefix[s][e]
                        if v > f[c][e] { f[c][e] = v; from[c][e] = s }
                    }
                }
            }
        }
        var anchors: [Int] = []
        var e = L
        for c in stride(from: K, through: 1, by: -1) {
            let s = from[c][e]
            anchors.append(s)
            e = s
        }
        return (anchors.reversed(), f[K][L])
    }

    /// Score of an anchor set: `sum_j sim[a(j)][j]`.
    public static func score(sim: [[Double]], anchors: [Int]) -> Double {
        var total = 0.0
        for j in 0..<sim.count { total += sim[anchors.last { $0 <= j } ?? 0][j] }
        return total
    }

    /// Exhaustive search over every anchor set with layer 0 (for tests; exponential in `L`).
    public static func bruteForce(sim: [[Double]], anchors K: Int) -> (anchors: [Int], score: Double) {
        let L = sim.count
        var best: (anchors: [Int], score: Double) = ([], -.infinity)
        for mask in 0..<(1 << (L - 1)) where mask.nonzeroBitCount == K - 1 {
            let a = [0] + (1..<L).filter { mask & (1 << ($0 - 1)) != 0 }
            let v = score(sim: sim, anchors: a)
            if v > best.score { best = (a, v) }
        }
        return best
    }

    /// Layer scores `sim[i][j] = imp(j) * mean_h2 max_h1 S[i,j][h2,h1]` for `i <= j` (`-inf` below the diagonal).
    public static func layerScores(_ s: SimilarityTensor, importance: [Double]) -> [[Double]] {
        let L = s.layers, G = s.heads
        precondition(importance.count == L)
        var sim = [[Double]](repeating: [Double](repeating: -.infinity, count: L), count: L)
        for i in 0..<L {
            for j in i..<L {
                var mean = 0.0
                for h2 in 0..<G { mean += (0..<G).map { s[i, j, h2, $0] }.max()! }
                sim[i][j] = importance[j] * mean / Double(G)
            }
        }
        return sim
    }

    /// Head maps `m_j[h2] = argmax_h1 S[a(j), j][h2, h1]` (lower head on ties); identity on anchors.
    public static func headMaps(_ s: SimilarityTensor, anchors: [Int]) -> [[Int]] {
        (0..<s.layers).map { j in
            if anchors.contains(j) { return Array(0..<s.heads) }
            let a = anchors.last { $0 <= j } ?? 0
            return (0..<s.heads).map { h2 in
                var best = 0
                for h1 in 1..<s.heads where s[a, j, h2, h1] > s[a, j, h2, best] { best = h1 }
                return best
            }
        }
    }
}
