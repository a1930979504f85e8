import Foundation

/// What an evaluation runs: tasks at context lengths, methods at budgets, and the fidelity texts.
public struct EvalPlan: Codable, Hashable, Sendable {
    /// Context lengths in tokens.
    public var contexts: [Int]
    /// Generated tasks (empty with a user's tasks file).
    public var tasks: [TaskKind]
    /// Items per task and context length.
    public var itemsPerTask: Int
    /// Seed of the generated items.
    public var seed: UInt64
    /// Methods at budgets, dense among them for the "lost against dense" columns.
    public var methods: [MethodSpec]
    /// Longest answer generated, in tokens.
    public var maxNewTokens: Int
    /// Licence documents whose next-token fidelity is measured (empty: none).
    public var fidelityTexts: [String]
    /// First decoded position of the fidelity measurement; earlier tokens are prefilled densely.
    public var fidelityStart: Int
    /// Decoded positions per fidelity text.
    public var fidelityPositions: Int

    /// Creates a plan.
    public init(contexts: [Int], tasks: [TaskKind], itemsPerTask: Int, seed: UInt64, methods: [MethodSpec],
                maxNewTokens: Int = 48, fidelityTexts: [String] = [], fidelityStart: Int = 2048,
                fidelityPositions: Int = 128) {
        self.contexts = contexts
        self.tasks = tasks
        self.itemsPerTask = itemsPerTask
        self.seed = seed
        self.methods = methods
        self.maxNewTokens = maxNewTokens
        self.fidelityTexts = fidelityTexts
        self.fidelityStart = fidelityStart
        self.fidelityPositions = fidelityPositions
    }

    /// Methods in the order the runner asks for them: dense, the decode-only methods (which can reuse
    /// dense's prompt cache), then the rest, each group in the plan's order.
    public var runOrder: [MethodSpec] {
        methods.filter { $0.kind == .dense } + methods.filter { $0.kind.isDecodeOnly }
            + methods.filter { $0.kind != .dense && !$0.kind.isDecodeOnly }
    }

    /// The generated items, by context length, then task, then index.
    public func generateItems(generator: TaskGenerator) throws(EvalError) -> [EvalItem] {
        var out: [EvalItem] = []
        for length in contexts {
            for task in tasks { out += try generator.items(task, contextLength: length, count: itemsPerTask) }
        }
        return out
    }

    /// Parses `2k,4k,8k` or `4096` into token counts (`k` = 1024).
    public static func parseContexts(_ s: String) throws(EvalError) -> [Int] {
        var out: [Int] = []
        for raw in s.split(separator: ",") {
            let t = raw.lowercased().trimmingCharacters(in: .whitespaces)
            let n: Int?
            if t.hasSuffix("k") { n = Int(t.dropLast()).map { $0 * 1024 } } else { n = Int(t) }
            guard let n, n >= 512 else { throw .badContextLength(String(raw)) }
            out.append(n)
        }
        guard !out.isEmpty else { throw .badContextLength(s) }
        return out
    }
}
