import Foundation

/// Renders an `EvalReport` as Markdown tables: accuracy (task x method, with what each method lost
/// against dense kept apart from what dense itself fails), keys read per decode step, and fidelity.
public enum MarkdownReport {
    /// The whole report.
    public static func render(_ r: EvalReport) -> String {
        var out = "## Accuracy (% of items whose answer contains the expected one)\n\n"
        out += "Model: `\(r.modelID)`. Seed \(r.plan.seed), \(r.plan.itemsPerTask) item(s) per task and length.\n"
        out += "A cell `acc (-lost +gained)` counts items dense answered and the method lost, and items dense failed that the method answered. "
        out += "`dense fails` counts items the dense model itself got wrong.\n\n"
        let methods = r.plan.methods.map(\.label)
        out += "| task | context | items | dense fails | " + methods.joined(separator: " | ") + " |\n"
        out += "|---|---:|---:|---:|" + methods.map { _ in "---:" }.joined(separator: "|") + "|\n"
        for g in r.groups {
            var row = "| \(g.task.rawValue) | \(lengthLabel(g.contextLength)) | \(g.items - g.skipped)"
            row += g.skipped > 0 ? " (\(g.skipped) skipped)" : ""
            row += " | \(g.denseFails.map(String.init) ?? "n/a") |"
            for m in methods {
                guard let c = r.cell(g.task, g.contextLength, m), c.items > 0 else { row += " – |"; continue }
                row += " " + percent(c.accuracy)
                if m != "dense", let lost = c.lostVsDense, let gained = c.gainedVsDense, lost + gained > 0 {
                    row += " (-\(lost) +\(gained))"
                }
                row += " |"
            }
            out += row + "\n"
        }
        var lengths: [Int] = []
        for a in r.averages where !lengths.contains(a.contextLength) { lengths.append(a.contextLength) }
        for length in lengths {
            var row = "| **average** | \(length == 0 ? "all" : lengthLabel(length)) | | |"
            for m in methods {
                if let a = r.averages.first(where: { $0.method == m && $0.contextLength == length }) {
                    row += " **\(percent(a.accuracy))**"
                    if m != "dense", let lost = a.lostVsDense, lost > 0 { row += " (-\(lost))" }
                    row += " |"
                } else { row += " – |" }
            }
            out += row + "\n"
        }
        if r.skippedItems > 0 {
            out += "\nSkipped: \(r.skippedItems) item(s) whose prompt is longer than the model's context.\n"
        }

        out += "\n## Keys read per decode step (per layer and query head, mean over items)\n\n"
        var cellLengths: [Int] = []  // generated lengths, and 0 for a --tasks-file's items
        for c in r.cells where !cellLengths.contains(c.contextLength) { cellLengths.append(c.contextLength) }
        out += "| method | " + cellLengths.map(lengthLabel).joined(separator: " | ") + " |\n"
        out += "|---|" + cellLengths.map { _ in "---:" }.joined(separator: "|") + "|\n"
        for m in methods {
            var row = "| \(m) |"
            for length in cellLengths {
                let cs = r.cells.filter { $0.method == m && $0.contextLength == length && $0.items > 0 }
                let n = cs.reduce(0) { $0 + $1.items }
                guard n > 0 else { row += " – |"; continue }
                let keys = cs.reduce(0) { $0 + $1.keysPerStep * Double($1.items) } / Double(n)
                let dense = cs.reduce(0) { $0 + $1.denseKeysPerStep * Double($1.items) } / Double(n)
                row += " \(Int(keys.rounded())) of \(Int(dense.rounded()))"
                row += dense > 0 ? " (\(percent(keys / dense))) |" : " |"
            }
            out += row + "\n"
        }

        if !r.fidelity.isEmpty {
            out += "\n## Next-token fidelity on natural text (teacher-forced decode from position \(r.plan.fidelityStart))\n\n"
            out += "Texts: \(r.plan.fidelityTexts.joined(separator: ", ")); \(r.plan.fidelityPositions) positions each.\n\n"
            out += "| method | positions | top-1 agreement | mean KL(dense‖method) | perplexity | change |\n"
            out += "|---|---:|---:|---:|---:|---:|\n"
            for f in r.fidelity {
                out += "| \(f.method) | \(f.positions) | \(percent(f.top1Agreement)) | \(String(format: "%.4f", f.meanKL)) | "
                out += "\(String(format: "%.3f", f.perplexityMethod)) | \(String(format: "%+.2f%%", f.perplexityChange * 100)) |\n"
            }
        }
        return out
    }

    /// `2k` for 2048, else the number.
    public static func lengthLabel(_ n: Int) -> String {
        n == 0 ? "custom" : (n % 1024 == 0 ? "\(n / 1024)k" : "\(n)")
    }

    /// `97.5%` with one decimal.
    public static func percent(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
}
