/// Errors of the evaluation: each carries the offending value.
public enum EvalError: Error, Equatable, CustomStringConvertible {
    /// A line of a tasks file is not a `{"context","question","answer"}` object.
    case malformedItem(line: Int, reason: String)
    /// A tasks file holds no items.
    case emptyTasksFile(path: String)
    /// A file could not be read or written.
    case io(path: String, reason: String)
    /// A bundled text is missing from the machine.
    case missingText(path: String)
    /// A hand-written question's answer is not verbatim in its document.
    case answerNotInText(document: String, answer: String)
    /// An unknown method name.
    case unknownMethod(String)
    /// An unknown task name.
    case unknownTask(String)
    /// A context length that cannot be parsed or is too small.
    case badContextLength(String)
    /// A budget outside (0, 1].
    case badBudget(Double)
    /// A results file line that cannot be read back.
    case badResultsLine(line: Int, reason: String)
    /// The backend failed on one item.
    case backend(String)

    public var description: String {
        switch self {
        case .malformedItem(let line, let reason): return "tasks file line \(line): \(reason)"
        case .emptyTasksFile(let path): return "tasks file \(path) holds no items"
        case .io(let path, let reason): return "\(path): \(reason)"
        case .missingText(let path): return "text \(path) is missing on this machine"
        case .answerNotInText(let document, let answer): return "answer \"\(answer)\" is not verbatim in \(document)"
        case .unknownMethod(let m): return "unknown method '\(m)' (known: \(MethodKind.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .unknownTask(let t): return "unknown task '\(t)' (known: \(TaskKind.generated.map(\.rawValue).joined(separator: ", ")))"
        case .badContextLength(let s): return "bad context length '\(s)' (use e.g. 2k, 4k, 8k or 4096; at least 512)"
        case .badBudget(let f): return "budget \(f) is outside (0, 1]"
        case .badResultsLine(let line, let reason): return "results file line \(line): \(reason)"
        case .backend(let s): return s
        }
    }
}
