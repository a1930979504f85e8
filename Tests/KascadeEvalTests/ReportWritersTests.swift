import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import KascadeEval

@Suite("Report writers")
struct ReportWritersTests {
    @Test("the SVG chart is well-formed XML with one polyline per multi-point series")
    func svg() throws {
        var chart = SVGChart(title: "A <b> & c", xLabel: "x", yLabel: "y", xRange: 0...1, yRange: 0...100,
                             xTicks: [(0.05, "5%"), (0.2, "20%")], yTicks: [(0, "0"), (100, "100")])
        chart.series = [.init(name: "kascade", points: [(0.05, 50), (0.1, 70), (0.2, 90)]),
                        .init(name: "one", points: [(0.1, 10)])]
        chart.references = [("dense", 95)]
        let s = chart.render()
        let doc = try XMLDocument(xmlString: s)
        #expect(doc.rootElement()?.name == "svg")
        #expect(s.components(separatedBy: "<polyline").count - 1 == 1)
        #expect(s.components(separatedBy: "<circle").count - 1 == 4)
        #expect(s.contains("A &lt;b&gt; &amp; c"))
    }

    static let budgets: [(Double, String)] = [(0.05, "0.05"), (0.1, "0.10"), (0.2, "0.20"), (1, "1.00")]

    @Test("method labels carry the budget with two decimals", arguments: budgets)
    func labels(budget: Double, text: String) throws {
        #expect(try MethodSpec(.quest, budget: budget).label == "quest@\(text)")
        #expect(try MethodSpec(.dense, budget: budget).label == "dense")
    }

    @Test("method and context lists parse, bad ones are refused")
    func parsing() throws {
        let specs = try MethodSpec.parse(methods: "dense,quest,kascade-uniform", budgets: [0.05, 0.1])
        #expect(specs.map(\.label) == ["dense", "quest@0.05", "quest@0.10", "kascade-uniform@0.05", "kascade-uniform@0.10"])
        #expect(throws: EvalError.unknownMethod("qest")) { _ = try MethodSpec.parse(methods: "qest", budgets: [0.1]) }
        #expect(throws: EvalError.badBudget(1.5)) { _ = try MethodSpec(.quest, budget: 1.5) }
        #expect(try EvalPlan.parseContexts("2k,4k,8192") == [2048, 4096, 8192])
        #expect(throws: EvalError.badContextLength("12")) { _ = try EvalPlan.parseContexts("12") }
    }

    @Test("the progress line shows counts and an ETA")
    func progress() {
        #expect(ProgressBar.render(done: 5, total: 10, ranSinceStart: 5, elapsed: 50, width: 10) == "[#####.....] 5/10 ETA 50s")
        #expect(ProgressBar.render(done: 6, total: 10, ranSinceStart: 1, elapsed: 60, width: 10).hasSuffix("ETA 4m00s"))
        #expect(ProgressBar.duration(3725) == "1h02m")
    }
}
