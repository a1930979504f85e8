/// The accuracy-against-budget chart of a report: one line per sparse method (task average over all
/// context lengths at each budget), dense as a dashed reference.
public enum BudgetChart {
    /// The chart as an SVG document.
    public static func svg(_ r: EvalReport) -> String {
        var byKind: [MethodKind: [(x: Double, y: Double)]] = [:]
        var order: [MethodKind] = []
        var budgets: [Double] = []
        for m in r.plan.methods where m.kind != .dense {
            guard let acc = r.average(m.label) else { continue }
            if byKind[m.kind] == nil { order.append(m.kind) }
            byKind[m.kind, default: []].append((m.budget, acc * 100))
            if !budgets.contains(m.budget) { budgets.append(m.budget) }
        }
        budgets.sort()
        let lo = (budgets.first ?? 0.05), hi = (budgets.last ?? 0.2)
        let pad = hi > lo ? (hi - lo) * 0.08 : 0.02
        var chart = SVGChart(title: "Task accuracy against budget (\(r.modelID))", xLabel: "budget (fraction of context read)",
                             yLabel: "accuracy, % (task average)", xRange: (lo - pad)...(hi + pad), yRange: 0...100,
                             xTicks: budgets.map { ($0, "\(Int(($0 * 100).rounded()))%") },
                             yTicks: stride(from: 0.0, through: 100, by: 20).map { ($0, "\(Int($0))") })
        chart.series = order.map { SVGChart.Series(name: $0.rawValue, points: byKind[$0]!) }
        if let d = r.average("dense") { chart.references = [("dense", d * 100)] }
        return chart.render()
    }
}
