/// One line of the results file: one item answered (or skipped) under one method.
public struct ItemResult: Codable, Hashable, Sendable {
    /// Always `"item"`; tells item lines from fidelity lines.
    public var kind = "item"
    /// Item identifier.
    public var itemID: String
    /// Fingerprint of the item's text, so a stored result is reused only for the same item.
    public var fingerprint: String
    /// Task of the item.
    public var task: TaskKind
    /// Context length the item was generated for.
    public var contextLength: Int
    /// Method label, e.g. `quest@0.10`.
    public var method: String
    /// Prompt tokens.
    public var promptTokens: Int
    /// True when the prompt did not fit the model's context and nothing ran.
    public var skipped: Bool
    /// Generated text (empty when skipped).
    public var prediction: String
    /// Expected answer.
    public var answer: String
    /// Whether the prediction contains the answer.
    public var correct: Bool
    /// Whether the prediction equals the answer (normalised).
    public var exact: Bool
    /// Decode steps.
    public var steps: Int
    /// Mean keys read per decode step, per layer and query head.
    public var keysPerStep: Double
    /// Mean keys dense would read per decode step, per layer and query head.
    public var denseKeysPerStep: Double

    /// Key of the (item, method) pair in a results file.
    public var key: String { "\(itemID)|\(fingerprint)|\(method)" }

    /// Creates a result for `item` under `method` from `answer` (nil when skipped).
    public init(item: EvalItem, method: MethodSpec, promptTokens: Int, answer generated: GeneratedAnswer?) {
        itemID = item.id
        fingerprint = item.fingerprint
        task = item.task
        contextLength = item.contextLength
        self.method = method.label
        self.promptTokens = promptTokens
        skipped = generated == nil
        prediction = generated?.text ?? ""
        answer = item.answer
        correct = generated.map { Scoring.contains($0.text, answer: item.answer) } ?? false
        exact = generated.map { Scoring.exactMatch($0.text, answer: item.answer) } ?? false
        steps = generated?.steps ?? 0
        keysPerStep = generated?.keysPerStep ?? 0
        denseKeysPerStep = generated?.denseKeysPerStep ?? 0
    }

    /// Key for `item` under `method`.
    public static func key(_ item: EvalItem, _ method: MethodSpec) -> String {
        "\(item.id)|\(item.fingerprint)|\(method.label)"
    }
}
