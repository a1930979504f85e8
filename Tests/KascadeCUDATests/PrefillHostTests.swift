import KascadeCore
import Testing
@testable import KascadeCUDA

@Suite("Prefill launch arithmetic without a GPU")
struct PrefillHostTests {
    @Test("reuse launches one block row per selection row of SparseAttention's tile layout",
          arguments: [(1, 1), (32, 32), (33, 33), (100, 1000), (1500, 2051), (4099, 4099), (31, 64)])
    func reuseRowsMatchCore(t: Int, n: Int) {
        #expect(PrefillReuseKernels.rows(queryCount: t, length: n) == SparseAttention.tileRows(queryCount: t, length: n, tile: 32))
    }

    @Test("causal FLOPs count every visible (query, key) pair", arguments: [(1, 1), (7, 7), (5, 9), (100, 333)])
    func causalFlops(t: Int, n: Int) {
        var pairs = 0
        for q in 0..<t { pairs += n - t + q + 1 }
        let f = PrefillKernels.flops(batch: 2, queryHeads: 3, headDim: 64, queryCount: t, length: n)
        #expect(f == Double(4 * 2 * 3 * 64 * pairs))
    }
}
