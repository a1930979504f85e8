/// The outcome of an evaluation, built only from the results file (so a resumed run reports exactly
/// what an uninterrupted one would). Written as JSON, Markdown (`MarkdownReport`) and SVG (`BudgetChart`).
public struct EvalReport: Codable, Hashable, Sendable {
    /// Accuracy of one method on one task at one context length.
    public struct Cell: Codable, Hashable, Sendable {
        public var task: TaskKind
        public var contextLength: Int
        public var method: String
        /// Items that ran (not skipped) and have a result.
        public var items: Int
        /// Items whose generated text contains the answer.
        public var correct: Int
        /// Items whose generated text equals the answer.
        public var exact: Int
        /// `correct / items` (0 when no items).
        public var accuracy: Double
        /// Items dense answered correctly and this method did not (nil without dense).
        public var lostVsDense: Int?
        /// Items dense got wrong and this method answered correctly (nil without dense).
        public var gainedVsDense: Int?
        /// Mean keys read per decode step, per layer and query head.
        public var keysPerStep: Double
        /// Mean keys dense would read per decode step, per layer and query head.
        public var denseKeysPerStep: Double
    }

    /// One task at one context length.
    public struct Group: Codable, Hashable, Sendable {
        public var task: TaskKind
        public var contextLength: Int
        /// Items in the plan.
        public var items: Int
        /// Items skipped because their prompt exceeds the model's context.
        public var skipped: Int
        /// Items dense answered wrongly (nil without dense).
        public var denseFails: Int?
    }

    /// A method's accuracy averaged over tasks (unweighted) at one context length (0: all lengths).
    public struct Average: Codable, Hashable, Sendable {
        public var contextLength: Int
        public var method: String
        public var accuracy: Double
        /// Items lost against dense, summed over tasks (nil without dense).
        public var lostVsDense: Int?
    }

    /// Next-token fidelity of one method over all fidelity texts.
    public struct FidelityRow: Codable, Hashable, Sendable {
        public var method: String
        public var positions: Int
        public var top1Agreement: Double
        public var meanKL: Double
        public var perplexityDense: Double
        public var perplexityMethod: Double
        public var perplexityChange: Double
    }

    /// Report format version.
    public var version = 1
    /// The model evaluated.
    public var modelID: String
    /// The plan that ran.
    public var plan: EvalPlan
    /// Task groups in plan order.
    public var groups: [Group]
    /// Cells, group-major, methods in plan order.
    public var cells: [Cell]
    /// Task averages per context length, then over all lengths.
    public var averages: [Average]
    /// Fidelity per method (empty when not measured).
    public var fidelity: [FidelityRow]
    /// Items skipped as longer than the model's context.
    public var skippedItems: Int

    /// Builds the report for `plan` over `items` from what `log` holds.
    public static func build(plan: EvalPlan, modelID: String, items: [EvalItem], fidelityTexts: [String],
                             log: ResultsLog) -> EvalReport {
        let methods = plan.methods
        let dense = methods.first { $0.kind == .dense }
        var groupOrder: [String] = []
        var groupItems: [String: [EvalItem]] = [:]
        for item in items {
            let g = "\(item.task.rawValue)@\(item.contextLength)"
            if groupItems[g] == nil { groupOrder.append(g) }
            groupItems[g, default: []].append(item)
        }
        var groups: [Group] = []
        var cells: [Cell] = []
        var skippedIDs = Set<String>()
        for g in groupOrder {
            let its = groupItems[g]!
            let skipped = its.filter { item in methods.contains { log.items[ItemResult.key(item, $0)]?.skipped == true } }
            skippedIDs.formUnion(skipped.map(\.id))
            func result(_ item: EvalItem, _ m: MethodSpec) -> ItemResult? {
                guard let r = log.items[ItemResult.key(item, m)], !r.skipped else { return nil }
                return r
            }
            var denseFails: Int?
            if let dense {
                let ran = its.compactMap { result($0, dense) }
                denseFails = ran.filter { !$0.correct }.count
            }
            groups.append(Group(task: its[0].task, contextLength: its[0].contextLength, items: its.count,
                                skipped: skipped.count, denseFails: denseFails))
            for m in methods {
                let ran = its.compactMap { result($0, m) }
                var lost: Int?, gained: Int?
                if let dense {
                    lost = 0; gained = 0
                    for item in its {
                        guard let d = result(item, dense), let r = result(item, m) else { continue }
                        if d.correct && !r.correct { lost! += 1 }
                        if !d.correct && r.correct { gained! += 1 }
                    }
                }
                let n = ran.count
                cells.append(Cell(task: its[0].task, contextLength: its[0].contextLength, method: m.label, items: n,
                                  correct: ran.filter(\.correct).count, exact: ran.filter(\.exact).count,
                                  accuracy: n > 0 ? Double(ran.filter(\.correct).count) / Double(n) : 0,
                                  lostVsDense: lost, gainedVsDense: gained,
                                  keysPerStep: n > 0 ? ran.reduce(0) { $0 + $1.keysPerStep } / Double(n) : 0,
                                  denseKeysPerStep: n > 0 ? ran.reduce(0) { $0 + $1.denseKeysPerStep } / Double(n) : 0))
            }
        }
        var averages: [Average] = []
        var lengths: [Int] = []
        for c in groups where !lengths.contains(c.contextLength) { lengths.append(c.contextLength) }
        for length in lengths + (lengths.count > 1 ? [0] : []) {
            for m in methods {
                let cs = cells.filter { $0.method == m.label && $0.items > 0 && (length == 0 || $0.contextLength == length) }
                guard !cs.isEmpty else { continue }
                let acc = cs.reduce(0) { $0 + $1.accuracy } / Double(cs.count)
                let lost = dense == nil ? nil : cs.reduce(0) { $0 + ($1.lostVsDense ?? 0) }
                averages.append(Average(contextLength: length, method: m.label, accuracy: acc, lostVsDense: lost))
            }
        }
        var fidelity: [FidelityRow] = []
        for m in methods {
            var t = FidelityTally()
            var any = false
            for name in fidelityTexts {
                if let r = log.fidelity[FidelityResult.key(text: name, start: plan.fidelityStart, method: m.label)], !r.skipped {
                    t.merge(r.tally)
                    any = true
                }
            }
            guard any else { continue }
            fidelity.append(FidelityRow(method: m.label, positions: t.positions, top1Agreement: t.top1Agreement,
                                        meanKL: t.meanKL, perplexityDense: t.perplexityDense,
                                        perplexityMethod: t.perplexityMethod, perplexityChange: t.perplexityChange))
        }
        return EvalReport(modelID: modelID, plan: plan, groups: groups, cells: cells, averages: averages,
                          fidelity: fidelity, skippedItems: skippedIDs.count)
    }

    /// The cell of `method` on `task` at `contextLength`.
    public func cell(_ task: TaskKind, _ contextLength: Int, _ method: String) -> Cell? {
        cells.first { $0.task == task && $0.contextLength == contextLength && $0.method == method }
    }

    /// A method's accuracy averaged over tasks at `contextLength` (0: over all lengths, or the only one).
    public func average(_ method: String, contextLength: Int = 0) -> Double? {
        if let a = averages.first(where: { $0.method == method && $0.contextLength == contextLength }) { return a.accuracy }
        if contextLength == 0 {
            let lengths = Set(averages.map(\.contextLength))
            if lengths.count == 1 { return averages.first { $0.method == method }?.accuracy }
        }
        return nil
    }
}
