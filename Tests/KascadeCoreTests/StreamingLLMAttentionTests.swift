import Testing
@testable import KascadeCore

@Suite("StreamingLLM")
struct StreamingLLMAttentionTests {
    @Test("equals dense when the budget covers the context, decode and prefill", arguments: PeerShape.all)
    func fullBudgetIsDense(shape: PeerShape) throws {
        let fixture = try PeerFixture(shape, seed: 14)
        let err = try fixture.compareWithDense(StreamingLLMAttention(budget: .full), layer: 0, seed: 7)
        #expect(err.decode < 1e-5)
        #expect(err.prefill < 1e-5)
    }

    @Test("each query reads exactly the sinks and its recent window, decode and prefill",
          arguments: [PeerShape(queryHeads: 9, kvHeads: 3, headDim: 64, length: 700),
                      PeerShape(queryHeads: 4, kvHeads: 1, headDim: 10, length: 333)],
          [1, 9, 333])
    func readsSinksAndWindow(shape: PeerShape, queryCount t: Int) throws {
        let fixture = try PeerFixture(shape, seed: 15)
        let budget = try Budget(fraction: 0.1, kMin: 16)
        let streaming = StreamingLLMAttention(budget: budget, sinks: 4)
        let n = shape.length, d = shape.headDim
        let q = fixture.queries(t, seed: 1)
        let out = try fixture.run(streaming, layer: 7, queries: q, count: t, length: n)
        var expected = [Double](), reads = 0.0, visibleKeys = 0.0
        for h in 0..<shape.queryHeads {
            for i in 0..<t {
                let visible = n - t + i + 1
                visibleKeys += Double(visible)
                let k = budget.keys(outOf: visible)
                let positions = k >= visible ? Array(0..<visible) : Array(0..<4) + Array((visible - (k - 4))..<visible)
                #expect(positions.count == min(k, visible))
                let ranges = streaming.readRanges(visible: visible)
                #expect(Array(ranges.sinks) + Array(ranges.window) == positions)
                reads += Double(positions.count)
                let row = h * t + i
                expected += fixture.reference(query: q[(row * d)..<((row + 1) * d)],
                                              g: fixture.geo.kvHead(ofQueryHead: h), positions: positions)
            }
        }
        #expect(PeerFixture.relativeError(out, expected, headDim: d) < 1e-4)
        #expect(streaming.stats.keysRead == reads)
        #expect(streaming.stats.denseKeys == visibleKeys)
    }

    @Test("an evicted key never returns: the window start never moves back")
    func windowIsMonotone() throws {
        for (fraction, kMin, sinks) in [(0.1, 16, 4), (0.5, 0, 4), (0.03, 128, 0), (1.0, 0, 4)] {
            let streaming = StreamingLLMAttention(budget: try Budget(fraction: fraction, kMin: kMin), sinks: sinks)
            var lastStart = 0
            for visible in 1...3000 {
                let r = streaming.readRanges(visible: visible)
                let start = r.window.isEmpty ? r.sinks.upperBound : r.window.lowerBound
                #expect(start >= lastStart || r.window.isEmpty)
                #expect(r.sinks.count + r.window.count == min(visible, try Budget(fraction: fraction, kMin: kMin).keys(outOf: visible)))
                lastStart = r.window.isEmpty ? 0 : start
            }
        }
    }
}
