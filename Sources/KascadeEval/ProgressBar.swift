import Foundation

/// A one-line progress bar with an ETA on stderr, drawn only when stderr is a terminal.
public final class ProgressBar {
    private let total: Int
    private let label: String
    private let enabled: Bool
    private var done: Int
    private let startDone: Int
    private let started = Date()
    private var lastDraw = Date.distantPast

    /// A bar over `total` units of which `alreadyDone` were done before (a resumed run; not used for the ETA).
    public init(total: Int, alreadyDone: Int = 0, label: String, enabled: Bool = ProgressBar.stderrIsTerminal) {
        self.total = max(total, 1)
        self.label = label
        self.enabled = enabled
        done = alreadyDone
        startDone = alreadyDone
    }

    /// Whether stderr is a terminal.
    public static var stderrIsTerminal: Bool { isatty(2) == 1 }

    /// Marks one more unit done, with a short note (the current item).
    public func advance(_ note: String = "") {
        done += 1
        draw(note, force: done >= total)
    }

    /// Redraws with a note without advancing (throttled to 4 per second).
    public func note(_ note: String) { draw(note, force: false) }

    /// Ends the line.
    public func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    /// The bar's text for `done` of `total` after `elapsed` seconds: `[####....] 12/40 ETA 3m05s`.
    public static func render(done: Int, total: Int, ranSinceStart: Int, elapsed: Double, width: Int = 24) -> String {
        let filled = min(width, width * done / max(total, 1))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        var eta = "ETA --"
        if ranSinceStart > 0 && done < total {
            let left = elapsed / Double(ranSinceStart) * Double(total - done)
            eta = "ETA " + duration(left)
        } else if done >= total {
            eta = "took " + duration(elapsed)
        }
        return "[\(bar)] \(done)/\(total) \(eta)"
    }

    /// `1h02m`, `3m05s` or `42s`.
    public static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t >= 3600 { return "\(t / 3600)h\(String(format: "%02d", (t % 3600) / 60))m" }
        if t >= 60 { return "\(t / 60)m\(String(format: "%02d", t % 60))s" }
        return "\(t)s"
    }

    private func draw(_ note: String, force: Bool) {
        guard enabled else { return }
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) > 0.25 else { return }
        lastDraw = now
        let line = Self.render(done: done, total: total, ranSinceStart: done - startDone,
                               elapsed: now.timeIntervalSince(started))
        let text = "\r\u{1B}[K\(label) \(line) \(note.prefix(40))"
        FileHandle.standardError.write(Data(text.utf8))
    }
}
