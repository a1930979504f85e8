import Foundation

/// A one-line progress bar on stderr (`label [#####.....] done/total unit, ETA`), drawn only when
/// stderr is a terminal and at most four times a second.
final class TerminalProgress {
    private let label: String
    private let unit: String
    private let enabled: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drew = false

    /// A bar for one task named `label`, counting `unit`s.
    init(label: String, unit: String = "tokens", enabled: Bool = isatty(2) == 1) {
        self.label = label
        self.unit = unit
        self.enabled = enabled
    }

    /// Shows `done` of `total`.
    func update(_ done: Int, of total: Int) {
        guard enabled else { return }
        let now = Date()
        guard done >= total || now.timeIntervalSince(lastDraw) >= 0.25 else { return }
        lastDraw = now
        let width = 24, filled = total > 0 ? min(width, width * done / total) : width
        let elapsed = now.timeIntervalSince(start)
        let eta = done > 0 && done < total ? String(format: ", ETA %.0fs", elapsed / Double(done) * Double(total - done)) : ""
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r\u{1B}[K\(label) [\(bar)] \(done)/\(total) \(unit)\(eta)".utf8))
        drew = true
    }

    /// Ends the line.
    func finish() {
        guard enabled, drew else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
