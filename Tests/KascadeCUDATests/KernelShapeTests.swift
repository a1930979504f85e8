import Testing
@testable import KascadeCUDA

@Suite("Kernel shapes")
struct KernelShapeTests {
    @Test("supported shapes give their GQA group", arguments: [(64, 32, 8, 4), (128, 9, 3, 3), (128, 16, 1, 16)])
    func accepts(d: Int, h: Int, g: Int, group: Int) throws {
        #expect(try KernelShape.group(headDim: d, queryHeads: h, kvHeads: g, maxGroup: 16, what: "test") == group)
    }

    @Test("unsupported shapes are one-line errors naming the value",
          arguments: [(96, 32, 8, "96"), (128, 30, 8, "30"), (128, 32, 0, "0"), (128, 32, 2, "16")])
    func refuses(d: Int, h: Int, g: Int, value: String) {
        do {
            _ = try KernelShape.group(headDim: d, queryHeads: h, kvHeads: g, maxGroup: 8, what: "test kernels")
            Issue.record("accepted d=\(d) H=\(h) G=\(g)")
        } catch {
            #expect("\(error)".contains(value) && !"\(error)".contains("\n"), "\(error)")
        }
    }
}

@Suite("Split planning without a GPU")
struct SplitPlanTests {
    /// (values, rows, count, tiles per split at least) on 132 multiprocessors with 64-key tiles.
    @Test("one tile per split only for value-reading kernels whose one-tile splits fit one wave",
          arguments: [(true, 8, 820, 1), (true, 8, 1024, 1), (true, 8, 1025, 2), (true, 8, 3277, 2), (true, 64, 820, 2),
                      (true, 8, 8192, 2), (false, 8, 820, 2), (true, 1, 64, 1)])
    func tilesPerSplit(_ item: (Bool, Int, Int, Int)) {
        let (values, rows, count, want) = item
        #expect(AttentionKernelSet.minimumTilesPerSplit(values: values, rows: rows, count: count, tile: 64,
                                                        multiprocessors: 132) == want)
    }
}
