// Quest: Query-Aware Sparsity for Efficient Long-Context LLM Inference.
// Tang, Zhao, Zhu, Xiao, Kasikci, Han. ICML 2024, arXiv 2406.10774.
import Dispatch

/// Quest (SPEC 2.3): pages of keys scored by an upper bound of `q . k` from per-page key bounds,
/// exact attention over each query head's top pages.
///
/// Per layer and KV head a ``QuestPageTable`` keeps the element-wise min and max of every page of
/// `pageSize` keys, brought up to date at each decode call with the positions appended since the
/// previous one. For query head `h` the page score is `sum_i max(q_i * max_i, q_i * min_i)`; the head
/// keeps its top `ceil(k / pageSize)` pages (`k` from the budget over the `N` cached keys), the
/// current (last, possibly partial) page always among them, and attends exactly over their keys.
///
/// Quest is a decode method: a prefill chunk (`T > 1`) runs dense, as do the first `denseLayers`
/// layers. Work is split over query heads across all cores; scratch grows only with `N`.
///
/// The page tables belong to one sequence: call `reset()` before the next one (a cache shorter than
/// the table is also taken as a new sequence).
public final class QuestAttention: AttentionPolicy {
    /// Scratch of the dense layers and prefill chunks, kept between calls.
    private let denseWorkspace = AttentionWorkspace()
    public let name = "quest"
    public private(set) var stats = AttentionStats()
    /// Key budget per query head (rounded up to whole pages).
    public let budget: Budget
    /// Positions per page.
    public let pageSize: Int
    /// Layers `0 ..< denseLayers` run dense.
    public let denseLayers: Int

    private var tables: [QuestPageTable] = []
    private let pageScores = MethodScratch<Float>()
    private let pageOrder = MethodScratch<Int32>()
    private let chosenPages = MethodScratch<Int32>()
    private let positions = MethodScratch<Int32>()
    private let rowScratch = MethodScratch<Float>()
    private let keysPerHead = MethodScratch<Int>()

    /// A Quest policy; defaults are the paper's page of 16 and two dense layers.
    public init(budget: Budget = try! Budget(), pageSize: Int = 16, denseLayers: Int = 2) {
        precondition(pageSize > 0, "page size must be positive, got \(pageSize)")
        self.budget = budget
        self.pageSize = pageSize
        self.denseLayers = max(0, denseLayers)
    }

    public func reset() {
        stats = AttentionStats()
        for t in tables { t.clear() }
    }

    /// The page table of `layer` (created empty on first use).
    func table(layer: Int) -> QuestPageTable {
        while tables.count <= layer { tables.append(QuestPageTable(pageSize: pageSize)) }
        return tables[layer]
    }

    /// Pages each query head keeps out of `pageCount` for a context of `n` keys.
    public func pagesToKeep(contextLength n: Int) -> Int {
        let pages = (n + pageSize - 1) / pageSize
        let k = budget.keys(outOf: n)
        return min(pages, max(1, (k + pageSize - 1) / pageSize))
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
        let table = table(layer: layer)
        table.update(from: kv)
        let pages = table.pageCount
        let keep = pagesToKeep(contextLength: N)
        let maxKeys = min(N, keep * pageSize)
        let scores = pageScores.reserve(H * pages), order = pageOrder.reserve(H * pages)
        let chosen = chosenPages.reserve(H * keep), pos = positions.reserve(H * maxKeys)
        let row = rowScratch.reserve(H * maxKeys), counts = keysPerHead.reserve(H)
        let pageSize = self.pageSize
        let workers = min(H, ProcessInfoCores.count)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for h in stride(from: w, to: H, by: workers) {
                let g = geo.kvHead(ofQueryHead: h)
                let q = queries + h * d
                let count = QuestAttention.selectPositions(
                    query: q, table: table, kvHead: g, length: N, pagesToKeep: keep, pageSize: pageSize,
                    pageScores: scores + h * pages, pageOrder: order + h * pages,
                    chosenPages: chosen + h * keep, into: pos + h * maxKeys)
                IndexedAttentionRow.attend(q: q, kv: kv, g: g, indices: pos + h * maxKeys, count: count,
                                           scratch: row + h * maxKeys, out: output + h * d)
                counts[h] = count
            }
        }
        var read = 0
        for h in 0..<H { read += counts[h] }
        stats.record(keys: Double(read), dense: Double(H * N))
    }

    /// Quest's page score: `sum_i max(q_i * max_i, q_i * min_i)`, an upper bound of `q . k` for every
    /// key `k` with `min <= k <= max` element-wise.
    /// - Parameters:
    ///   - query: `d` floats.
    ///   - minKey: the page's element-wise key minimum, `d` floats.
    ///   - maxKey: the page's element-wise key maximum, `d` floats.
    ///   - headDim: `d`.
    @inlinable
    public static func pageScore(query: UnsafePointer<Float>, minKey: UnsafePointer<Float>,
                                 maxKey: UnsafePointer<Float>, headDim: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= headDim {
            let q = UnsafeRawPointer(query + i).loadUnaligned(as: SIMD8<Float>.self)
            let lo = UnsafeRawPointer(minKey + i).loadUnaligned(as: SIMD8<Float>.self)
            let hi = UnsafeRawPointer(maxKey + i).loadUnaligned(as: SIMD8<Float>.self)
            acc += pointwiseMax(q * hi, q * lo)
            i += 8
        }
        var s = acc.sum()
        while i < headDim {
            s += Swift.max(query[i] * maxKey[i], query[i] * minKey[i])
            i += 1
        }
        return s
    }

    /// Page scores of pages `0 ..< pageCount` of KV head `kvHead` for one query, written to `scores`.
    /// - Parameters:
    ///   - query: `d` floats.
    ///   - scores: `pageCount` floats, overwritten.
    public static func scorePages(query: UnsafePointer<Float>, table: QuestPageTable, kvHead: Int,
                                  pageCount: Int, into scores: UnsafeMutablePointer<Float>) {
        precondition(pageCount <= table.pageCount, "\(pageCount) pages asked of a table of \(table.pageCount)")
        for p in 0..<pageCount {
            scores[p] = pageScore(query: query, minKey: table.minKey(kvHead, p),
                                  maxKey: table.maxKey(kvHead, p), headDim: table.headDim)
        }
    }

    /// Quest's selection for one query head: the positions of the top `pagesToKeep - 1` full pages
    /// by page score plus the last (current) page, in ascending order; all `length` positions when
    /// `pagesToKeep` covers every page. Returns the number of positions written.
    /// - Parameters:
    ///   - query: `d` floats.
    ///   - table: page bounds covering exactly `length` positions.
    ///   - pageScores, pageOrder: scratch, one per page.
    ///   - chosenPages: scratch, `pagesToKeep` entries.
    ///   - positions: at least `min(length, pagesToKeep * pageSize)` entries, overwritten.
    public static func selectPositions(query: UnsafePointer<Float>, table: QuestPageTable, kvHead: Int,
                                length: Int, pagesToKeep: Int, pageSize: Int,
                                pageScores: UnsafeMutablePointer<Float>, pageOrder: UnsafeMutablePointer<Int32>,
                                chosenPages: UnsafeMutablePointer<Int32>,
                                into positions: UnsafeMutablePointer<Int32>) -> Int {
        let pages = (length + pageSize - 1) / pageSize
        precondition(table.coveredLength == length, "page table covers \(table.coveredLength) of \(length) keys")
        if pagesToKeep >= pages {
            for n in 0..<length { positions[n] = Int32(n) }
            return length
        }
        let full = pages - 1
        scorePages(query: query, table: table, kvHead: kvHead, pageCount: full, into: pageScores)
        TopK.select(scores: pageScores, count: full, k: pagesToKeep - 1, scratch: pageOrder, into: chosenPages)
        chosenPages[pagesToKeep - 1] = Int32(full)
        var count = 0
        for c in 0..<pagesToKeep {
            let start = Int(chosenPages[c]) * pageSize
            let end = min(length, start + pageSize)
            for n in start..<end {
                positions[count] = Int32(n)
                count += 1
            }
        }
        return count
    }
}
