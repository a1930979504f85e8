// Twilight: Adaptive Attention Sparsity with Hierarchical Top-p Pruning.
// Lin, Tang, Yang, Zhang, Wang, Mao, Zhang, Wang, Cai, Kasikci, Han. arXiv 2502.02770.
import Dispatch

/// Twilight (SPEC 2.4): select with Quest at a conservative budget, then prune the candidates to the
/// smallest set holding a fraction `topP` of their estimated attention mass.
///
/// Per query head and decode step:
/// 1. **Select.** Quest pages (``QuestAttention``, pages of 16) for a budget
///    `B0 = max(kMin, ceil(baseFraction * N))` keys, `kMin` taken from `budget`.
/// 2. **Estimate.** `q . k` on the candidates from a 4-bit copy of the keys (``Int4KeyCache``,
///    per token: zero point `min`, `scale = (max - min) / 15`), kept up to date on append; softmax
///    over the candidates only.
/// 3. **Prune.** The kept set is `{ j : p_j >= theta }` for the largest threshold `theta` whose set
///    still holds mass `>= topP`, found by bisection on `theta` (``topPThreshold(weights:count:mass:)``,
///    no sort): the smallest such set up to a threshold tolerance of `2^-24` of the largest `p_j`.
/// 4. **Attend** exactly over the kept keys.
///
/// The kept size varies per head and step; ``meanKeptKeys`` and ``lastKeptKeys`` report it, and
/// ``AttentionStats/keysRead`` counts the kept keys (the 4-bit estimate reads the candidates at an
/// eighth of the bytes and is counted in ``estimatedKeys``). `budget` sets the candidate floor `kMin`;
/// a budget of the whole context (`fraction == 1`) keeps every key, so the method then equals dense.
/// `topP >= 1` keeps every candidate.
///
/// Twilight is a decode method: a prefill chunk (`T > 1`) runs dense, as do the first `denseLayers`
/// layers. Work is split over query heads across all cores; scratch grows only with `N`.
public final class TwilightAttention: AttentionPolicy {
    /// Scratch of the dense layers and prefill chunks, kept between calls.
    private let denseWorkspace = AttentionWorkspace()
    public let name = "twilight"
    public private(set) var stats = AttentionStats()
    /// Reporting budget; its `kMin` floors the candidate set, and `fraction == 1` disables selection and pruning.
    public let budget: Budget
    /// Quest's candidate budget `B0` as a fraction of the context.
    public let baseFraction: Double
    /// Attention mass the kept set must hold.
    public let topP: Float
    /// Layers `0 ..< denseLayers` run dense.
    public let denseLayers: Int
    /// Positions per Quest page.
    public let pageSize = 16
    /// Bisection steps of the top-p threshold search.
    public static let thresholdIterations = 24

    /// Sum over sparse head-steps of the kept keys.
    public private(set) var keptKeysTotal = 0
    /// Sparse head-steps counted in ``keptKeysTotal``.
    public private(set) var keptSteps = 0
    /// Kept keys per query head in the last sparse call, `[H]`.
    public private(set) var lastKeptKeys: [Int] = []
    /// Candidate keys scored with the 4-bit estimate since the last reset.
    public private(set) var estimatedKeys = 0

    private var tables: [QuestPageTable] = []
    private var quantised: [Int4KeyCache] = []
    private let pageScores = MethodScratch<Float>()
    private let pageOrder = MethodScratch<Int32>()
    private let chosenPages = MethodScratch<Int32>()
    private let positions = MethodScratch<Int32>()
    private let rowScratch = MethodScratch<Float>()
    private let paddedQueries = MethodScratch<Float>()
    private let candidateCounts = MethodScratch<Int>()
    private let keptCounts = MethodScratch<Int>()

    /// A Twilight policy: Quest candidates at `baseFraction` of the context, pruned to mass `topP`.
    public init(budget: Budget = try! Budget(), baseFraction: Double = 0.25, topP: Float = 0.95,
                denseLayers: Int = 2) {
        precondition(baseFraction > 0 && baseFraction <= 1, "base fraction \(baseFraction) is outside (0, 1]")
        precondition(topP > 0 && topP <= 1, "top-p \(topP) is outside (0, 1]")
        self.budget = budget
        self.baseFraction = baseFraction
        self.topP = topP
        self.denseLayers = max(0, denseLayers)
    }

    /// Mean kept keys per query head and sparse decode step (0 before any).
    public var meanKeptKeys: Double { keptSteps > 0 ? Double(keptKeysTotal) / Double(keptSteps) : 0 }

    public func reset() {
        stats = AttentionStats()
        keptKeysTotal = 0
        keptSteps = 0
        lastKeptKeys = []
        estimatedKeys = 0
        for t in tables { t.clear() }
        for c in quantised { c.clear() }
    }

    /// Candidate keys `B0` Quest selects from a context of `n` keys.
    public func candidateBudget(contextLength n: Int) -> Int {
        if budget.fraction >= 1 { return n }
        let want = Int((baseFraction * Double(n)).rounded(.up))
        return min(n, max(budget.kMin, want))
    }

    public func attend(layer: Int, queries: UnsafePointer<Float>, queryCount: Int,
                       kv: KVCacheView, output: UnsafeMutablePointer<Float>) throws {
        let geo = kv.geometry
        let H = geo.queryHeads, d = geo.headDim, N = kv.length, T = queryCount
        if T > 1 || layer < denseLayers {
            _ = DenseAttention.compute(queries: queries, queryCount: T, kv: kv, output: output, causal: true,
                                       workspace: denseWorkspace, workers: ProcessInfoCores.count)
            let dense = DenseAttention.causalKeys(queryCount: T, kv: kv)
            stats.record(keys: dense, dense: dense)
            return
        }
        precondition(T == 1 && N >= 1, "decode needs one query over a non-empty cache")
        while tables.count <= layer {
            tables.append(QuestPageTable(pageSize: pageSize))
            quantised.append(Int4KeyCache())
        }
        let table = tables[layer], cache = quantised[layer]
        let prune = topP < 1 && budget.fraction < 1
        table.update(from: kv)
        if prune { cache.update(from: kv) }

        let pages = table.pageCount
        let b0 = candidateBudget(contextLength: N)
        let keep = min(pages, max(1, (b0 + pageSize - 1) / pageSize))
        let maxKeys = min(N, keep * pageSize)
        let padded = prune ? cache.paddedDim : 0
        let scores = pageScores.reserve(H * pages), order = pageOrder.reserve(H * pages)
        let chosen = chosenPages.reserve(H * keep), pos = positions.reserve(H * maxKeys)
        let row = rowScratch.reserve(H * maxKeys), qpad = paddedQueries.reserve(H * max(padded, 1))
        let candidates = candidateCounts.reserve(H), kept = keptCounts.reserve(H)
        let pageSize = self.pageSize, topP = self.topP, scale = geo.scale
        let workers = min(H, ProcessInfoCores.count)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for h in stride(from: w, to: H, by: workers) {
                let g = geo.kvHead(ofQueryHead: h)
                let q = queries + h * d
                let p = pos + h * maxKeys, w = row + h * maxKeys
                let count = QuestAttention.selectPositions(
                    query: q, table: table, kvHead: g, length: N, pagesToKeep: keep, pageSize: pageSize,
                    pageScores: scores + h * pages, pageOrder: order + h * pages,
                    chosenPages: chosen + h * keep, into: p)
                var keptCount = count
                if prune {
                    let qp = qpad + h * padded
                    var qSum: Float = 0
                    for i in 0..<d { qp[i] = q[i]; qSum += q[i] }
                    for i in d..<padded { qp[i] = 0 }
                    var m = -Float.infinity
                    for j in 0..<count {
                        let s = cache.estimateDot(g, Int(p[j]), paddedQuery: qp, querySum: qSum) * scale
                        w[j] = s
                        m = max(m, s)
                    }
                    for j in 0..<count { w[j] = (w[j] - m).exp }
                    let theta = TwilightAttention.topPThreshold(weights: w, count: count, mass: topP)
                    keptCount = 0
                    for j in 0..<count where w[j] >= theta {
                        p[keptCount] = p[j]
                        keptCount += 1
                    }
                }
                IndexedAttentionRow.attend(q: q, kv: kv, g: g, indices: p, count: keptCount, scratch: w, out: output + h * d)
                candidates[h] = count
                kept[h] = keptCount
            }
        }
        var read = 0, scored = 0
        if lastKeptKeys.count != H { lastKeptKeys = [Int](repeating: 0, count: H) }
        for h in 0..<H {
            lastKeptKeys[h] = kept[h]
            read += kept[h]
            scored += candidates[h]
        }
        keptKeysTotal += read
        keptSteps += H
        if prune { estimatedKeys += scored }
        stats.record(keys: Double(read), dense: Double(H * N))
    }

    /// Twilight's top-p threshold: the largest `theta` (up to bisection tolerance) such that the
    /// weights `>= theta` hold at least a fraction `mass` of the total; the kept set is
    /// `{ j : weights[j] >= theta }`.
    ///
    /// Bisection over `[0, max weight]` for ``thresholdIterations`` steps, each one pass over the
    /// weights: the set found contains the smallest top-`mass` set and adds only weights within
    /// `max weight * 2^-iterations` below its smallest member. Never empty: the largest weight is
    /// always kept.
    /// - Parameters:
    ///   - weights: `count` non-negative (unnormalised) probabilities.
    ///   - mass: the fraction of the total to keep, in (0, 1].
    public static func topPThreshold(weights: UnsafePointer<Float>, count: Int, mass: Float,
                                     iterations: Int = thresholdIterations) -> Float {
        guard count > 0 else { return 0 }
        var top: Float = 0
        for j in 0..<count { top = max(top, weights[j]) }
        @inline(__always) func massAtLeast(_ theta: Float) -> Float {
            var acc = SIMD8<Float>()
            var j = 0
            while j + 8 <= count {
                let w = UnsafeRawPointer(weights + j).loadUnaligned(as: SIMD8<Float>.self)
                acc += w.replacing(with: 0, where: w .< theta)
                j += 8
            }
            var s = acc.sum()
            while j < count {
                if weights[j] >= theta { s += weights[j] }
                j += 1
            }
            return s
        }
        let target = mass * massAtLeast(0)
        if massAtLeast(top) >= target { return top }
        var lo: Float = 0, hi = top
        for _ in 0..<iterations {
            let mid = (lo + hi) / 2
            if massAtLeast(mid) >= target { lo = mid } else { hi = mid }
        }
        return lo
    }
}
