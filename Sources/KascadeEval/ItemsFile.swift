import Foundation

/// Reads a user's tasks file: JSON Lines, one `{"context": ..., "question": ..., "answer": ...}`
/// object per line (other keys ignored, blank lines skipped).
public enum ItemsFile {
    /// Parses the file at `path`; a malformed line throws `EvalError.malformedItem` naming its 1-based number.
    public static func load(path: String) throws(EvalError) -> [EvalItem] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .io(path: path, reason: "cannot read the tasks file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .io(path: path, reason: "the tasks file is not UTF-8")
        }
        let items = try parse(text)
        guard !items.isEmpty else { throw .emptyTasksFile(path: path) }
        return items
    }

    /// Parses JSON Lines text into items with ids `custom#<line>`.
    public static func parse(_ text: String) throws(EvalError) -> [EvalItem] {
        var items: [EvalItem] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: Data(trimmed.utf8))
            } catch {
                throw .malformedItem(line: lineNumber, reason: "not valid JSON")
            }
            guard let dict = object as? [String: Any] else {
                throw .malformedItem(line: lineNumber, reason: "not a JSON object")
            }
            var fields: [String] = []
            for key in ["context", "question", "answer"] {
                guard let value = dict[key] else { throw .malformedItem(line: lineNumber, reason: "missing \"\(key)\"") }
                guard let s = value as? String else { throw .malformedItem(line: lineNumber, reason: "\"\(key)\" is not a string") }
                fields.append(s)
            }
            guard !fields[2].isEmpty else { throw .malformedItem(line: lineNumber, reason: "\"answer\" is empty") }
            items.append(EvalItem(id: "custom#\(lineNumber)", task: .custom, contextLength: 0,
                                  context: fields[0], question: fields[1], answer: fields[2]))
        }
        return items
    }
}
