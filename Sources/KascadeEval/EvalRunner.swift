/// Runs an evaluation plan on a backend, appending each result to the results file as it finishes
/// and skipping what the file already holds (resume), then builds the report from the file.
public final class EvalRunner {
    /// The model.
    public let backend: any EvalBackend
    /// What to run.
    public let plan: EvalPlan
    /// The items (generated or a user's).
    public let items: [EvalItem]
    /// Fidelity texts by name.
    public let fidelityTexts: [(name: String, text: String)]
    /// Where results go.
    public let log: ResultsLog
    private let warn: (String) -> Void
    private let showProgress: Bool

    /// Creates a runner; `warn` receives one-line warnings (over-long items, short texts).
    public init(backend: any EvalBackend, plan: EvalPlan, items: [EvalItem],
                fidelityTexts: [(name: String, text: String)] = [], log: ResultsLog,
                showProgress: Bool = ProgressBar.stderrIsTerminal, warn: @escaping (String) -> Void) {
        self.backend = backend
        self.plan = plan
        self.items = items
        self.fidelityTexts = fidelityTexts
        self.log = log
        self.warn = warn
        self.showProgress = showProgress
    }

    /// Runs what is not yet in the results file and returns the report over the whole plan.
    public func run() throws -> EvalReport {
        let methods = plan.runOrder
        let total = (items.count + fidelityTexts.count) * methods.count
        var already = 0
        for item in items { for m in methods where log.items[ItemResult.key(item, m)] != nil { already += 1 } }
        for t in fidelityTexts {
            for m in methods where log.fidelity[FidelityResult.key(text: t.name, start: plan.fidelityStart, method: m.label)] != nil {
                already += 1
            }
        }
        let bar = ProgressBar(total: total, alreadyDone: already, label: "eval", enabled: showProgress)
        defer { bar.finish() }

        for item in items {
            let needed = methods.filter { log.items[ItemResult.key(item, $0)] == nil }
            if needed.isEmpty { continue }
            bar.note(item.id)
            let prompt = try backend.promptTokens(item)
            if prompt + plan.maxNewTokens > backend.contextLimit {
                warn("skipping \(item.id): prompt of \(prompt) tokens + \(plan.maxNewTokens) answer tokens exceeds the model's context of \(backend.contextLimit)")
                for m in needed {
                    try log.append(ItemResult(item: item, method: m, promptTokens: prompt, answer: nil))
                    bar.advance(item.id)
                }
                continue
            }
            for m in needed {
                let generated = try backend.answer(item, method: m, maxNewTokens: plan.maxNewTokens)
                try log.append(ItemResult(item: item, method: m, promptTokens: prompt, answer: generated))
                bar.advance("\(item.id) \(m.label)")
            }
        }

        for t in fidelityTexts {
            let needed = methods.filter {
                log.fidelity[FidelityResult.key(text: t.name, start: plan.fidelityStart, method: $0.label)] == nil
            }
            if needed.isEmpty { continue }
            bar.note("fidelity \(t.name)")
            var tokens = try backend.tokenize(t.text)
            let want = plan.fidelityStart + plan.fidelityPositions + 1
            if tokens.count < want {
                warn("skipping fidelity on \(t.name): \(tokens.count) tokens, \(want) needed")
                for m in needed {
                    try log.append(FidelityResult(text: t.name, method: m.label, start: plan.fidelityStart,
                                                  skipped: true, tally: FidelityTally()))
                    bar.advance()
                }
                continue
            }
            tokens = Array(tokens.prefix(want))
            let targets = Array(tokens[(plan.fidelityStart + 1)...])
            let dense = try backend.decodeLogits(tokens, start: plan.fidelityStart, method: try MethodSpec(.dense, budget: 1))
            for m in needed {
                let logits = m.kind == .dense ? dense
                    : try backend.decodeLogits(tokens, start: plan.fidelityStart, method: m)
                let tally = FidelityMetrics.tally(dense: dense, method: logits, vocab: backend.vocabularySize, targets: targets)
                try log.append(FidelityResult(text: t.name, method: m.label, start: plan.fidelityStart,
                                              skipped: false, tally: tally))
                bar.advance("fidelity \(t.name) \(m.label)")
            }
        }
        return EvalReport.build(plan: plan, modelID: backend.modelID, items: items,
                                fidelityTexts: fidelityTexts.map(\.name), log: log)
    }
}
