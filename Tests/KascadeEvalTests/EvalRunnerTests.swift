import Foundation
import Testing
import KascadeEval

@Suite("Evaluation runner")
struct EvalRunnerTests {
    static let corpus = try! LicenseCorpus.load()

    static func tempPath(_ name: String) -> String {
        NSTemporaryDirectory() + "kascade-eval-\(name)-\(UInt64.random(in: 0...UInt64.max)).jsonl"
    }

    static func plan(methods: [MethodSpec], items: Int = 1, contexts: [Int] = [1024], fidelity: Bool = false) -> EvalPlan {
        EvalPlan(contexts: contexts, tasks: TaskKind.generated, itemsPerTask: items, seed: 1, methods: methods,
                 fidelityTexts: fidelity ? ["GPL-3", "LGPL-2"] : [], fidelityStart: 300, fidelityPositions: 20)
    }

    static func texts(_ plan: EvalPlan) -> [(name: String, text: String)] {
        plan.fidelityTexts.map { ($0, corpus.documents[$0]!) }
    }

    static func run(_ backend: FakeEvalBackend, _ plan: EvalPlan, path: String, resume: Bool) throws -> EvalReport {
        let items = try plan.generateItems(generator: TaskGenerator(seed: plan.seed, counter: backend.counter, corpus: corpus))
        let log = try ResultsLog(path: path, resume: resume)
        return try EvalRunner(backend: backend, plan: plan, items: items, fidelityTexts: texts(plan), log: log,
                              showProgress: false, warn: { _ in }).run()
    }

    @Test("smoke: one item per task at 1k, two methods; the JSON report parses back")
    func smoke() throws {
        let methods = [try MethodSpec(.dense, budget: 1), try MethodSpec(.kascade, budget: 0.1)]
        let plan = Self.plan(methods: methods, fidelity: true)
        let path = Self.tempPath("smoke")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let backend = FakeEvalBackend()
        let report = try Self.run(backend, plan, path: path, resume: false)
        #expect(report.cells.count == TaskKind.generated.count * 2)
        #expect(report.cells.allSatisfy { $0.items == 1 })
        #expect(backend.answered == TaskKind.generated.count * 2)
        let json = try JSONEncoder().encode(report)
        let back = try JSONDecoder().decode(EvalReport.self, from: json)
        #expect(back == report)
        #expect(try JSONSerialization.jsonObject(with: json) is [String: Any])
        #expect(report.fidelity.count == 2)
        #expect(report.fidelity.first { $0.method == "dense" }?.top1Agreement == 1)
        #expect((report.fidelity.first { $0.method == "kascade@0.10" }?.meanKL ?? 0) > 0)
        let md = MarkdownReport.render(report)
        #expect(md.contains("| passkey | 1k |"))
        #expect(BudgetChart.svg(report).hasPrefix("<svg"))
        // One JSON line per (item, method) and per (text, method).
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == TaskKind.generated.count * 2 + 2 * 2)
    }

    @Test("items from a file are reported under a custom context, keys read included")
    func customItems() throws {
        let methods = [try MethodSpec(.dense, budget: 1), try MethodSpec(.quest, budget: 0.1)]
        let plan = Self.plan(methods: methods)
        let path = Self.tempPath("custom")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let items = try ItemsFile.parse("""
            {"context": "The sky is blue.", "question": "What colour is the sky?", "answer": "blue"}
            {"context": "Seven is a number.", "question": "Which number?", "answer": "seven"}
            """)
        let report = try EvalRunner(backend: FakeEvalBackend(), plan: plan, items: items,
                                    log: try ResultsLog(path: path, resume: false), showProgress: false, warn: { _ in }).run()
        let md = MarkdownReport.render(report)
        let keys = md.components(separatedBy: "## Keys read")[1]
        #expect(keys.contains("| method | custom |"))
        for m in ["dense", "quest@0.10"] {
            #expect(keys.contains("| \(m) | ") && keys.contains(" of "), "row \(m)")
        }
        #expect(!keys.contains("| dense |\n"))
    }

    @Test("dense is asked first and decode-only methods right after it, per item")
    func order() throws {
        let methods = try MethodSpec.parse(methods: "streaming,kascade,quest,dense,twilight", budgets: [0.1])
        let plan = Self.plan(methods: methods)
        let path = Self.tempPath("order")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let backend = FakeEvalBackend()
        _ = try Self.run(backend, plan, path: path, resume: false)
        let first = backend.calls.prefix(5).map { String($0.split(separator: "|")[1]) }
        #expect(first == ["dense", "quest@0.10", "twilight@0.10", "streaming@0.10", "kascade@0.10"])
    }

    @Test("an interrupted run resumes to the same final table", arguments: [1, 7, 13])
    func resume(failAfter: Int) throws {
        let methods = try MethodSpec.parse(methods: "dense,kascade,quest", budgets: [0.05, 0.2])
        let plan = Self.plan(methods: methods, items: 2, fidelity: true)
        let whole = Self.tempPath("whole"), cut = Self.tempPath("cut")
        defer { for p in [whole, cut] { try? FileManager.default.removeItem(atPath: p) } }
        let reference = try Self.run(FakeEvalBackend(), plan, path: whole, resume: false)

        let failing = FakeEvalBackend(failAfter: failAfter)
        #expect(throws: FakeEvalBackend.Interrupted.self) { _ = try Self.run(failing, plan, path: cut, resume: false) }
        // An interruption in the middle of writing leaves a cut-off last line; resume drops it.
        let handle = FileHandle(forWritingAtPath: cut)!
        handle.seekToEndOfFile()
        handle.write(Data("{\"kind\":\"item\",\"itemID\":\"pass".utf8))
        try handle.close()

        let resumed = FakeEvalBackend()
        let report = try Self.run(resumed, plan, path: cut, resume: true)
        #expect(resumed.answered == TaskKind.generated.count * 2 * methods.count - failAfter)
        #expect(report == reference)
        #expect(MarkdownReport.render(report) == MarkdownReport.render(reference))
        #expect(BudgetChart.svg(report) == BudgetChart.svg(reference))
    }

    @Test("without --resume an existing results file starts over")
    func freshRun() throws {
        let plan = Self.plan(methods: [try MethodSpec(.dense, budget: 1)])
        let path = Self.tempPath("fresh")
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try Self.run(FakeEvalBackend(), plan, path: path, resume: false)
        let again = FakeEvalBackend()
        _ = try Self.run(again, plan, path: path, resume: false)
        #expect(again.answered == TaskKind.generated.count)
    }

    @Test("items longer than the model's context are skipped with a warning and counted")
    func overLong() throws {
        let methods = [try MethodSpec(.dense, budget: 1), try MethodSpec(.quest, budget: 0.1)]
        let plan = Self.plan(methods: methods, contexts: [1024, 2048])
        let path = Self.tempPath("long")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let backend = FakeEvalBackend(contextLimit: 1500)
        let items = try plan.generateItems(generator: TaskGenerator(seed: 1, counter: backend.counter, corpus: Self.corpus))
        var warnings: [String] = []
        let report = try EvalRunner(backend: backend, plan: plan, items: items, log: try ResultsLog(path: path, resume: false),
                                    showProgress: false, warn: { warnings.append($0) }).run()
        let n = TaskKind.generated.count
        #expect(report.skippedItems == n)
        #expect(warnings.count == n)
        #expect(warnings.allSatisfy { $0.contains("@2048#0") && $0.contains("1500") })
        #expect(backend.answered == n * 2)
        #expect(report.groups.filter { $0.contextLength == 2048 }.allSatisfy { $0.skipped == 1 })
        #expect(MarkdownReport.render(report).contains("Skipped: \(n) item(s)"))
    }

    @Test("the table separates dense failures from what a method lost")
    func denseFailsSeparated() throws {
        let methods = try MethodSpec.parse(methods: "dense,streaming", budgets: [0.05])
        let plan = Self.plan(methods: methods, items: 6)
        let path = Self.tempPath("fails")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try Self.run(FakeEvalBackend(), plan, path: path, resume: false)
        let log = try ResultsLog(path: path, resume: true)
        for g in report.groups {
            let dense = report.cell(g.task, g.contextLength, "dense")!
            let sparse = report.cell(g.task, g.contextLength, "streaming@0.05")!
            #expect(g.denseFails == dense.items - dense.correct)
            // The fake never gains: sparse correct = dense correct - lost.
            #expect(sparse.correct == dense.correct - sparse.lostVsDense!)
            #expect(sparse.gainedVsDense == 0)
        }
        let lostTotal = report.cells.compactMap(\.lostVsDense).reduce(0, +)
        let manual = log.items.values.filter { r in
            r.method == "streaming@0.05" && !r.correct &&
                log.items.values.contains { $0.itemID == r.itemID && $0.method == "dense" && $0.correct }
        }.count
        #expect(lostTotal == manual)
        #expect(report.groups.contains { ($0.denseFails ?? 0) > 0 })
    }
}
