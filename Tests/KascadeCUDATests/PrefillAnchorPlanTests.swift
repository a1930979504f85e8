import KascadeCore
import Testing
@testable import KascadeCUDA

@Suite("Prefill anchor plan without a GPU")
struct PrefillAnchorPlanTests {
    @Test("chunks cover every selection row once, in order, within the score bound",
          arguments: [(1, 8, 1000, 1000, 64 << 10), (2, 2, 2051, 1500, 32 << 10), (1, 8, 131072, 131072, 256 << 20),
                      (3, 1, 333, 1, 1 << 30), (1, 4, 4099, 4099, 1)])
    func chunksCoverRows(_ shape: (Int, Int, Int, Int, Int)) throws {
        let (b, g, n, t, limit) = shape
        let plan = try PrefillAnchorPlan(batch: b, kvHeads: g, queryCount: t, length: n, budget: Budget(), scoreLimitBytes: limit)
        #expect(plan.rows == SparseAttention.tileRows(queryCount: t, length: n, tile: 32))
        var next = 0
        for c in plan.chunks {
            #expect(c.tileLo == next)
            #expect(c.tiles >= 1)
            // The stride holds the chunk's widest row (its last tile) and keeps rows 16-byte aligned.
            #expect(c.stride >= plan.t0(row: c.tileLo + c.tiles - 1) && c.stride % 4 == 0)
            #expect(c.tiles == 1 || b * g * c.tiles * c.stride * 4 <= limit)
            next += c.tiles
        }
        #expect(next == plan.rows)
        #expect(plan.scoreBytes <= max(limit, b * g * (n + 3) / 4 * 16))
    }

    @Test("capacity and per-row budgets follow the rolling budget of SPEC 2.2", arguments: [100, 1001, 4096, 65537])
    func rollingBudget(_ n: Int) throws {
        let budget = try Budget(fraction: 0.1, kMin: 128)
        let plan = try PrefillAnchorPlan(batch: 1, kvHeads: 8, queryCount: n, length: n, budget: budget)
        var widest = 0, total = 0
        for r in 0..<plan.rows {
            let t0 = r * 32
            let want = t0 == 0 ? 0 : min(max(128, Int((0.1 * Double(t0)).rounded(.up))), t0)
            #expect(plan.keys(row: r) == want)
            widest = max(widest, want)
            total += want
        }
        #expect(plan.capacity == widest)
        #expect(plan.selectedKeys == 8 * total)
        #expect(plan.selectionBytes == 8 * plan.rows * (max(widest, 1) + 1) * 4)
    }

    @Test("the scratch at 128k stays under 2 GB with the default bound")
    func scratchAt128k() throws {
        let plan = try PrefillAnchorPlan(batch: 1, kvHeads: 8, queryCount: 131072, length: 131072, budget: Budget())
        #expect(plan.scoreBytes <= PrefillAnchorPlan.defaultScoreLimit)
        #expect(plan.scoreBytes + 32 * 131072 * 4 < 2_000_000_000)
    }

    @Test("bad shapes are refused with an error, not a crash")
    func badShapes() throws {
        #expect(throws: CUDAError.self) { try PrefillAnchorPlan(batch: 1, kvHeads: 8, queryCount: 10, length: 5, budget: Budget()) }
        #expect(throws: CUDAError.self) { try PrefillAnchorPlan(batch: 0, kvHeads: 8, queryCount: 5, length: 5, budget: Budget()) }
        #expect(throws: CUDAError.self) { try PrefillAnchorPlan(batch: 1, kvHeads: 8, queryCount: 5, length: 5, budget: Budget(), scoreLimitBytes: 0) }
    }
}
