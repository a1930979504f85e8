import KascadeEval

/// A deterministic stand-in for a model: counts words as tokens, answers from the item with
/// method-dependent mistakes, and makes logits that drift from dense as the budget shrinks.
final class FakeEvalBackend: EvalBackend {
    struct Interrupted: Error {}

    let modelID = "fake-model"
    let contextLimit: Int
    let vocabularySize = 50
    let counter: any TokenCounter = WordTokenCounter()
    /// Throws `Interrupted` once this many answers were given (nil: never).
    var failAfter: Int?
    private(set) var answered = 0
    private(set) var calls: [String] = []

    init(contextLimit: Int = 4096, failAfter: Int? = nil) {
        self.contextLimit = contextLimit
        self.failAfter = failAfter
    }

    private static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    func promptTokens(_ item: EvalItem) throws -> Int {
        counter.count(item.context) + counter.count(item.question) + 10
    }

    /// Dense fails one item in four; a sparse method loses one dense answer in three at budget 0.05,
    /// fewer at larger budgets; "gains" never happen.
    func answer(_ item: EvalItem, method: MethodSpec, maxNewTokens: Int) throws -> GeneratedAnswer {
        if let f = failAfter, answered >= f { throw Interrupted() }
        answered += 1
        calls.append("\(item.id)|\(method.label)")
        let denseRight = Self.hash(item.id) % 4 != 0
        let lose = method.kind != .dense && Self.hash(item.id + method.label) % 100 < UInt64(20 / (method.budget * 10 + 0.5))
        let right = denseRight && !lose
        let n = Double(try promptTokens(item))
        return GeneratedAnswer(text: right ? "The answer is \(item.answer)." : "I do not know.", steps: 4,
                               keysPerStep: n * method.budget, denseKeysPerStep: n)
    }

    func tokenize(_ text: String) throws -> [Int32] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { Int32(Self.hash(String($0)) % 50) }
    }

    func decodeLogits(_ tokens: [Int32], start: Int, method: MethodSpec) throws -> [Float] {
        var out: [Float] = []
        for p in start..<(tokens.count - 1) {
            for v in 0..<vocabularySize {
                let base = Float(Self.hash("\(p)/\(tokens[p])/\(v)") % 1000) / 200
                let noise = Float(Self.hash("\(p)/\(v)/\(method.label)") % 1000) / 1000 - 0.5
                out.append(base + noise * Float(1 - method.budget) * 3)
            }
        }
        return out
    }
}
