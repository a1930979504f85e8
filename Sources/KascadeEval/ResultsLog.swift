import Foundation

/// The append-only results file (JSON Lines): each finished (item, method) or (text, method) is
/// written as one line as soon as it is done, so an interrupted run loses nothing and `--resume`
/// continues from it.
public final class ResultsLog {
    /// Path of the file.
    public let path: String
    /// Item results already in the file, by key.
    public private(set) var items: [String: ItemResult] = [:]
    /// Fidelity results already in the file, by key.
    public private(set) var fidelity: [String: FidelityResult] = [:]
    private let handle: FileHandle

    private struct Kind: Decodable { let kind: String }

    /// Opens `path`. With `resume`, reads the lines already there (a last line cut off by an interruption
    /// is dropped); otherwise starts an empty file.
    public init(path: String, resume: Bool) throws(EvalError) {
        self.path = path
        let fm = FileManager.default
        var keep = Data()
        if resume, let data = fm.contents(atPath: path) {
            let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            let decoder = JSONDecoder()
            for (i, line) in lines.enumerated() where !line.isEmpty {
                let isLast = i == lines.count - 1          // no newline after it: possibly cut off
                do {
                    let kind = try decoder.decode(Kind.self, from: Data(line)).kind
                    if kind == "item" {
                        let r = try decoder.decode(ItemResult.self, from: Data(line))
                        items[r.key] = r
                    } else if kind == "fidelity" {
                        let r = try decoder.decode(FidelityResult.self, from: Data(line))
                        fidelity[r.key] = r
                    } else {
                        throw EvalError.badResultsLine(line: i + 1, reason: "unknown kind \"\(kind)\"")
                    }
                    keep.append(contentsOf: line)
                    keep.append(UInt8(ascii: "\n"))
                } catch {
                    if isLast { break }
                    throw .badResultsLine(line: i + 1, reason: "cannot be read back (\(path))")
                }
            }
        }
        guard fm.createFile(atPath: path, contents: keep) else {
            throw .io(path: path, reason: "cannot create the results file")
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw .io(path: path, reason: "cannot open the results file for writing")
        }
        handle = h
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    /// Appends an item result and flushes it.
    public func append(_ r: ItemResult) throws(EvalError) {
        try write(r)
        items[r.key] = r
    }

    /// Appends a fidelity result and flushes it.
    public func append(_ r: FidelityResult) throws(EvalError) {
        try write(r)
        fidelity[r.key] = r
    }

    private func write<T: Encodable>(_ r: T) throws(EvalError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            var data = try encoder.encode(r)
            data.append(UInt8(ascii: "\n"))
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            throw .io(path: path, reason: "cannot append a result (\(error))")
        }
    }
}
