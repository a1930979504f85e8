import Dispatch

/// Exact softmax attention over every visible key: the reference all other methods are measured against.
///
/// Causal, bottom-right aligned (see ``AttentionPolicy``). Work is split over KV heads and
/// queries (and, for decode, over slices of the keys) across all cores; a KV head's group of query
/// heads shares each K/V read. The policy keeps its scratch between calls, so a call allocates nothing.
public final class DenseAttention: AttentionPolicy {
    public let name = "dense"
    public private(set) var stats = AttentionStats()
    /// Cores used per call (default ``ProcessInfoCores/count``).
    public var workers: Int
    private let workspace = AttentionWorkspace()

    /// A dense policy using `workers` cores.
    public init(workers: Int = ProcessInfoCores.count) { self.workers = workers }

    public func reset() { stats = AttentionStats() }

    public func attend(layer: Int, queries: UnsafePointer<Float>, queryCount: Int,
                       kv: KVCacheView, output: UnsafeMutablePointer<Float>) throws {
        let read = DenseAttention.compute(queries: queries, queryCount: queryCount, kv: kv, output: output,
                                          causal: true, workspace: workspace, workers: workers)
        stats.record(keys: read, dense: DenseAttention.causalKeys(queryCount: queryCount, kv: kv))
    }

    /// Keys dense causal attention reads: `H * (T N - T (T - 1) / 2)`.
    public static func causalKeys(queryCount: Int, kv: KVCacheView) -> Double {
        let n = Double(kv.length), t = Double(queryCount)
        return (t * n - t * (t - 1) / 2) * Double(kv.geometry.queryHeads)
    }

    /// Dense causal attention, `queries` and `output` `[H, T, d]`.
    public static func compute(queries: UnsafePointer<Float>, queryCount: Int,
                               kv: KVCacheView, output: UnsafeMutablePointer<Float>) {
        compute(queries: queries, queryCount: queryCount, kv: kv, output: output,
                causal: true, workspace: AttentionWorkspace(), workers: ProcessInfoCores.count)
    }

    /// Dense attention, `queries` and `output` `[H, T, d]`. Causal: query `t` sees keys
    /// `0 ... N - T + t`; otherwise every query sees all `N` keys. Returns the keys read.
    @discardableResult
    public static func compute(queries: UnsafePointer<Float>, queryCount: Int, kv: KVCacheView,
                               output: UnsafeMutablePointer<Float>, causal: Bool,
                               workspace: AttentionWorkspace, workers: Int) -> Double {
        let T = queryCount, N = kv.length
        precondition(!causal || T <= N, "queries \(T) exceed keys \(N)")
        return AttentionEngine.run(queries: queries, queryCount: T, kv: kv, workspace: workspace,
                                   workers: workers, output: output) { _, t in
            AttentionEngine.KeySet(indices: nil, indexCount: 0, lo: 0, hi: causal ? N - T + t + 1 : N)
        }
    }
}
