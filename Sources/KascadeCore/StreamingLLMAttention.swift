// StreamingLLM: Efficient Streaming Language Models with Attention Sinks.
// Xiao, Tian, Chen, Han, Lewis. ICLR 2024, arXiv 2309.17453.
import Dispatch

/// StreamingLLM (SPEC 2.6), the eviction baseline: each query reads the first `sinks` keys (attention
/// sinks) and a window of the most recent keys, `k` keys in all, with `k` from the budget.
///
/// Query `t` of a `T`-query block sees `n = N - T + t + 1` keys; it reads positions `0 ..< s` and
/// `n - (k - s) ..< n` with `k = budget.keys(outOf: n)` and `s = min(sinks, k)` (all `n` keys when
/// `k >= n`). Decode is the case `T = 1`. Prefill applies the same rule to every query — a sliding
/// window per query, which is StreamingLLM's behaviour: a key that has left a query's window never
/// returns for a later query, since the window's start `n - k + s` never decreases as `n` grows.
/// Attention is exact softmax over the read keys. Work is split over heads and queries across all
/// cores; scratch grows only with the budget.
public final class StreamingLLMAttention: AttentionPolicy {
    public let name = "streaming"
    public private(set) var stats = AttentionStats()
    /// Keys per query (sinks plus window), as a fraction of the visible context with a floor.
    public let budget: Budget
    /// Attention-sink keys at the start of the sequence.
    public let sinks: Int

    private let positions = MethodScratch<Int32>()
    private let rowScratch = MethodScratch<Float>()
    private let keysPerJob = MethodScratch<Int>()

    /// A StreamingLLM policy with `sinks` sink keys (the paper's 4) and a window filling the budget.
    public init(budget: Budget = try! Budget(), sinks: Int = 4) {
        precondition(sinks >= 0, "sinks must be >= 0, got \(sinks)")
        self.budget = budget
        self.sinks = sinks
    }

    public func reset() { stats = AttentionStats() }

    /// The two ranges of positions a query seeing `visible` keys reads: sinks `0 ..< s` and the window.
    public func readRanges(visible n: Int) -> (sinks: Range<Int>, window: Range<Int>) {
        let k = budget.keys(outOf: n)
        if k >= n { return (0..<n, n..<n) }
        let s = min(sinks, k)
        return (0..<s, (n - (k - s))..<n)
    }

    public func attend(layer: Int, queries: UnsafePointer<Float>, queryCount: Int,
                       kv: KVCacheView, output: UnsafeMutablePointer<Float>) throws {
        let geo = kv.geometry
        let H = geo.queryHeads, d = geo.headDim, N = kv.length, T = queryCount
        precondition(T >= 1 && T <= N, "queries \(T) exceed keys \(N)")
        let maxKeys = budget.keys(outOf: N)
        let jobs = H * T
        let workers = min(jobs, ProcessInfoCores.count)
        let perWorker = (jobs + workers - 1) / workers
        let pos = positions.reserve(workers * maxKeys), row = rowScratch.reserve(workers * maxKeys)
        let counts = keysPerJob.reserve(workers)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let p = pos + w * maxKeys, scratch = row + w * maxKeys
            var read = 0
            for job in (w * perWorker)..<min(jobs, (w + 1) * perWorker) {
                let h = job / T, t = job % T
                let (sinkRange, window) = readRanges(visible: N - T + t + 1)
                var count = 0
                for n in sinkRange { p[count] = Int32(n); count += 1 }
                for n in window { p[count] = Int32(n); count += 1 }
                let row = h * T + t
                IndexedAttentionRow.attend(q: queries + row * d, kv: kv, g: geo.kvHead(ofQueryHead: h),
                                           indices: p, count: count, scratch: scratch, out: output + row * d)
                read += count
            }
            counts[w] = read
        }
        var read = 0
        for w in 0..<workers { read += counts[w] }
        stats.record(keys: Double(read), dense: DenseAttention.causalKeys(queryCount: T, kv: kv))
    }
}
