import KascadeCore
import Testing
@testable import KascadeCUDA

@Suite("GPU policy bookkeeping without a GPU")
struct CUDAAttentionHostTests {
    @Test("a prefill reuse layer's keys read equal what SparseAttention reads over the same selection",
          arguments: [(9, 3, 300, 70), (8, 2, 1000, 1000), (4, 4, 129, 33), (6, 3, 64, 2)])
    func prefillKeysRead(_ shape: (Int, Int, Int, Int)) throws {
        let (h, g, n, t) = shape
        let geo = try AttentionGeometry(queryHeads: h, kvHeads: g, headDim: 4)
        let plan = try PrefillAnchorPlan(batch: 1, kvHeads: g, queryCount: t, length: n, budget: Budget(fraction: 0.1, kMin: 8))
        var rng = SplitMix(seed: UInt64(h * 1000 + n))
        // Random selections per (head, row): some of each tile's earlier keys, up to the row's budget.
        var sel = KeySelection(heads: g, rows: plan.rows, capacity: max(plan.capacity, 1))
        for head in 0..<g {
            for r in 0..<plan.rows {
                let t0 = plan.t0(row: r)
                let take = Int(rng.next() % UInt64(plan.keys(row: r) + 1))
                sel.set(head: head, row: r, Array((0..<t0).shuffled(using: &rng).prefix(take).sorted().map { Int32($0) }))
            }
        }
        let map = (0..<g).map { _ in Int(rng.next() % UInt64(g)) }
        let keys = (0..<(g * n * 4)).map { _ in rng.uniform() }, values = keys
        let queries = (0..<(h * t * 4)).map { _ in rng.uniform() }
        var out = [Float](repeating: 0, count: h * t * 4)
        let read = keys.withUnsafeBufferPointer { kp in
            values.withUnsafeBufferPointer { vp in
                let kv = KVCacheView(keys: kp.baseAddress!, values: vp.baseAddress!, length: n, capacity: n, geometry: geo)
                return SparseAttention.compute(queries: queries, queryCount: t, kv: kv, selection: sel, headMap: map, tile: 32,
                                               output: &out, workspace: AttentionWorkspace())
            }
        }
        let kept = KascadePrefillSelection(length: n, queryCount: t, layer: 0, plan: plan, heads: g, counts: sel.counts)
        #expect(CUDAAttention.prefillKeysRead(kept, map: map, group: h / g, queryCount: t, length: n) == read)
    }
}

extension SplitMix: RandomNumberGenerator {}
