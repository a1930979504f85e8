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
