import Foundation

/// Output helpers of the model commands: stdout/stderr text, JSON, text files.
enum CLIOutput {
    /// Writes `s` to stdout without a newline and flushes.
    static func out(_ s: String) {
        FileHandle.standardOutput.write(Data(s.utf8))
    }

    /// Writes one line to stderr.
    static func err(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }

    /// Prints a JSON object on stdout.
    static func printJSON(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        out(String(decoding: data, as: UTF8.self) + "\n")
    }

    /// Reads a UTF-8 text file (invalid sequences replaced); a one-line error when unreadable.
    static func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIFailure("cannot read \(path)") }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A one-line command error.
struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Turns a stream of byte chunks into text, holding back an incomplete UTF-8 sequence at the end.
struct UTF8Stream {
    private var pending: [UInt8] = []

    /// Appends bytes; returns the text that is complete so far.
    mutating func push(_ bytes: [UInt8]) -> String {
        pending += bytes
        var cut = pending.count
        // Back up over a trailing incomplete multi-byte sequence (at most 3 bytes).
        var i = pending.count - 1
        var back = 0
        while i >= 0 && back < 4 && pending[i] & 0xC0 == 0x80 { i -= 1; back += 1 }
        if i >= 0 {
            let lead = pending[i]
            let need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
            if need > back + 1 { cut = i }
        }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Whatever is left (invalid bytes replaced).
    mutating func flush() -> String {
        defer { pending = [] }
        return String(decoding: pending, as: UTF8.self)
    }
}

/// A progress bar on stderr, shown only when stderr is a terminal.
final class ProgressBar {
    private let label: String
    private let total: Int
    private let enabled: Bool
    private let start = Date()

    init(label: String, total: Int) {
        self.label = label
        self.total = max(total, 1)
        enabled = isatty(fileno(stderr)) != 0
    }

    func update(_ done: Int) {
        guard enabled else { return }
        let frac = Double(done) / Double(total)
        let width = 30
        let filled = Int(frac * Double(width))
        let rate = Double(done) / max(Date().timeIntervalSince(start), 1e-9)
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(done)/\(total) \(Int(rate)) tok/s".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

/// Deterministic token ids for speed measurements: `id_i = 1000 + (i * 7919) % 40000`, folded into the vocabulary.
enum SyntheticPrompt {
    static func tokens(count: Int, vocabulary: Int) -> [Int32] {
        (0..<count).map { Int32((1000 + ($0 * 7919) % 40000) % vocabulary) }
    }
}
