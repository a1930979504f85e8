import ArgumentParser
import Foundation
import KascadeCore
import KascadeEval
import KascadeModel

/// `kascade eval`: task accuracy and next-token fidelity of every method against dense, at equal budgets.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure the accuracy of sparse attention methods against dense on long-context tasks.",
        discussion: """
        Tasks (generated from --seed at each --context length): passkey, multikey, kv-retrieval, variable-tracking, qa (questions over licence texts in /usr/share/common-licenses). Every item runs under each method; results are appended to --results as they finish, so --resume continues an interrupted run. The report is a Markdown table (stdout), JSON (--json-out) and an SVG of accuracy against budget (--svg-out).

        Examples:
          kascade eval
          kascade eval --methods dense,kascade,quest --budget 0.05,0.1,0.2 --context 4k --items 4
          kascade eval --tasks-file items.jsonl --methods dense,kascade
          kascade eval --full --json-out eval.json --svg-out eval.svg --resume
        """
    )

    @OptionGroup var modelFile: ModelFileOption

    @Option(help: "Comma-separated methods: dense, kascade, quest, twilight, vattention, streaming, kascade-decode (dense prefill), kascade-pooled, kascade-noremap, kascade-uniform, kascade-exact (every layer an anchor). Default: dense,kascade,quest,twilight,vattention,streaming (with --full also the Kascade ablations).")
    var methods: String?

    @Option(help: "Comma-separated budgets, fractions of the context in (0, 1]. Default 0.1 (with --full 0.05,0.1,0.2).")
    var budget: String?

    @Option(help: "Comma-separated context lengths in tokens, e.g. 2k,4k,8k. Default 4k (with --full 2k,4k,8k).")
    var context: String?

    @Option(help: "Items per task and context length. Default 2 (with --full 5).")
    var items: Int?

    @Option(help: "Comma-separated tasks. Default: passkey,multikey,kv-retrieval,variable-tracking,qa.")
    var tasks: String?

    @Option(help: "JSON Lines file of {\"context\",\"question\",\"answer\"} items, used instead of the generated tasks.")
    var tasksFile: String?

    @Option(help: "Seed of the generated tasks.")
    var seed: UInt64 = 1

    @Option(help: "Kascade schedule JSON (default: the shipped schedule for the model).")
    var schedule: String?

    @Option(help: "Per-item results file (JSON Lines), appended as items finish.")
    var results: String = "kascade-eval-results.jsonl"

    @Flag(help: "Keep the results already in --results and run only what is missing.")
    var resume = false

    @Option(help: "Write the report as JSON to this file.")
    var jsonOut: String?

    @Option(help: "Write the SVG chart of accuracy against budget to this file.")
    var svgOut: String?

    @Option(help: "Write the Markdown report to this file as well as stdout.")
    var markdownOut: String?

    @Flag(help: "Print the JSON report on stdout instead of Markdown.")
    var json = false

    @Flag(help: "Run the whole grid: contexts 2k,4k,8k, budgets 5/10/20%, all methods and ablations, 5 items per task.")
    var full = false

    @Option(help: "Teacher-forced positions per fidelity text (0: no fidelity). Default 64 (with --full 128).")
    var fidelityPositions: Int?

    @Option(help: "First decoded position of the fidelity measurement; earlier tokens are prefilled densely.")
    var fidelityStart: Int = 2048

    @Option(help: "Longest generated answer, in tokens.")
    var maxNewTokens: Int = 48

    func validate() throws {
        if let items, items < 1 { throw ValidationError("--items must be at least 1, got \(items)") }
        if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1, got \(maxNewTokens)") }
        if let f = fidelityPositions, f < 0 { throw ValidationError("--fidelity-positions must be >= 0, got \(f)") }
        if fidelityStart < 1 { throw ValidationError("--fidelity-start must be >= 1, got \(fidelityStart)") }
    }

    /// The plan the options describe.
    func makePlan() throws -> EvalPlan {
        var budgets: [Double] = []
        for raw in (budget ?? (full ? "0.05,0.1,0.2" : "0.1")).split(separator: ",") {
            guard let b = Double(raw.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--budget: '\(raw)' is not a number")
            }
            guard b > 0, b <= 1 else { throw EvalError.badBudget(b) }
            budgets.append(b)
        }
        let all = MethodKind.defaults + (full ? MethodKind.ablations : [])
        let specs = try MethodSpec.parse(methods: methods ?? all.map(\.rawValue).joined(separator: ","), budgets: budgets)
        let taskKinds = try (tasks?.split(separator: ",").map { try TaskKind.parse(String($0)) }) ?? TaskKind.generated
        let positions = fidelityPositions ?? (full ? 128 : 64)
        return EvalPlan(contexts: try EvalPlan.parseContexts(context ?? (full ? "2k,4k,8k" : "4k")),
                        tasks: tasksFile == nil ? taskKinds : [], itemsPerTask: items ?? (full ? 5 : 2), seed: seed,
                        methods: specs, maxNewTokens: maxNewTokens,
                        fidelityTexts: positions > 0 && tasksFile == nil ? ["GPL-3", "LGPL-2", "GFDL-1.3"] : [],
                        fidelityStart: fidelityStart, fidelityPositions: positions)
    }

    func run() throws {
        let plan = try makePlan()
        let log: (String) -> Void = { FileHandle.standardError.write(Data(("kascade eval: " + $0 + "\n").utf8)) }
        let custom = try tasksFile.map { try ItemsFile.load(path: $0) }      // bad input fails before the model loads
        let corpus = try LicenseCorpus.load()
        let backend = try EvalCommand.makeBackend(model: modelFile, schedule: schedule, plan: plan,
                                                  customItems: custom != nil, log: log)
        let items = try custom ?? plan.generateItems(
            generator: TaskGenerator(seed: plan.seed, counter: backend.counter, corpus: corpus))
        let texts = plan.fidelityTexts.map { (name: $0, text: corpus.documents[$0]!) }
        let resultsLog = try ResultsLog(path: results, resume: resume)
        if resume { log("resuming: \(resultsLog.items.count + resultsLog.fidelity.count) results already in \(results)") }
        let report = try EvalRunner(backend: backend, plan: plan, items: items, fidelityTexts: texts,
                                    log: resultsLog, warn: { log("warning: " + $0) }).run()
        let markdown = MarkdownReport.render(report)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let jsonText = String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
        if let jsonOut { try AtomicFile.write(jsonText, to: jsonOut) }
        if let svgOut { try AtomicFile.write(BudgetChart.svg(report), to: svgOut) }
        if let markdownOut { try AtomicFile.write(markdown, to: markdownOut) }
        print(json ? jsonText : markdown, terminator: "")
    }

    /// The model backend for a plan: the model (resolved and installed if needed), its tokenizer and
    /// template, a KV cache as long as the plan needs, and the method factory over the Kascade schedule.
    static func makeBackend(model: ModelFileOption, schedule: String?, plan: EvalPlan, customItems: Bool,
                            log: @escaping (String) -> Void) throws -> any EvalBackend {
        let loaded = try model.open(log: log)
        let llama = loaded.llama, c = llama.config
        let kascadeSchedule: KascadeSchedule
        if let schedule {
            kascadeSchedule = try KascadeSchedule.load(path: schedule)
            guard kascadeSchedule.layers == c.layers, kascadeSchedule.kvHeads == c.kvHeads else {
                throw EvalError.backend("schedule \(schedule) is for \(kascadeSchedule.layers) layers of \(kascadeSchedule.kvHeads) KV heads, the model has \(c.layers) of \(c.kvHeads)")
            }
        } else if let shipped = ShippedSchedule.schedule(for: llama.modelID) {
            kascadeSchedule = shipped
        } else {
            kascadeSchedule = try KascadeSchedule.evenlySpaced(layers: c.layers, kvHeads: c.kvHeads, anchors: min(5, c.layers))
            if plan.methods.contains(where: { $0.kind.usesSchedule }) {
                log("no --schedule given and none shipped for \(llama.modelID): Kascade runs 5 evenly spaced anchors, uncalibrated")
            }
        }
        var need = plan.contexts.max() ?? c.contextLength
        if !plan.fidelityTexts.isEmpty { need = max(need, plan.fidelityStart + plan.fidelityPositions + 1) }
        let maxContext = customItems ? c.contextLength : min(c.contextLength, need)
        let factory = MethodPolicies(schedule: kascadeSchedule)
        return try ModelEvalBackend(model: llama, tokenizer: loaded.tokenizer, template: ChatTemplate(gguf: loaded.gguf),
                                    maxContext: maxContext, makePolicy: { try factory.make($0) })
    }
}
