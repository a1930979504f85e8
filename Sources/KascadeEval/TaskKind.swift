/// The long-context tasks, in the style of RULER and passkey retrieval.
public enum TaskKind: String, Codable, CaseIterable, Sendable, Comparable {
    /// One 5-digit pass key hidden in filler text at a chosen depth.
    case passkey
    /// Several keyed magic numbers in filler text; one is asked.
    case multikey
    /// A long list of random key-value pairs; the value of one key is asked.
    case kvRetrieval = "kv-retrieval"
    /// Chains of variable assignments among filler; the value at the end of one chain is asked.
    case variableTracking = "variable-tracking"
    /// Questions over long real text (licence documents), answers verbatim in the text.
    case qa
    /// Items read from a user's tasks file.
    case custom

    /// The tasks generated from a seed (every case but `custom`).
    public static let generated: [TaskKind] = [.passkey, .multikey, .kvRetrieval, .variableTracking, .qa]

    /// Whether the answer is a planted needle that must occur exactly once in the context.
    public var isRetrieval: Bool { self != .qa && self != .custom }

    /// Parses a task name as the command line spells it.
    public static func parse(_ s: String) throws(EvalError) -> TaskKind {
        guard let t = TaskKind(rawValue: s), t != .custom else { throw .unknownTask(s) }
        return t
    }

    public static func < (a: TaskKind, b: TaskKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
