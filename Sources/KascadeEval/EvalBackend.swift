/// What the evaluation needs from a model: token counts, greedy answers under a method, and
/// teacher-forced next-token logits under a method.
///
/// The runner asks for one item's methods one after another, dense first, then the decode-only
/// methods (`MethodKind.isDecodeOnly`), so a backend can compute the prompt's KV cache once with
/// dense attention and reuse it for them.
public protocol EvalBackend: AnyObject {
    /// Identifies the model in reports (e.g. file name and size).
    var modelID: String { get }
    /// Longest sequence the model takes, in tokens.
    var contextLimit: Int { get }
    /// Vocabulary size `V` of the logits.
    var vocabularySize: Int { get }
    /// Counts tokens of plain text as the model's tokenizer does.
    var counter: any TokenCounter { get }

    /// Tokens of the whole prompt for `item` (chat template, context, question).
    func promptTokens(_ item: EvalItem) throws -> Int

    /// Greedy answer to `item` under `method`, at most `maxNewTokens` tokens.
    func answer(_ item: EvalItem, method: MethodSpec, maxNewTokens: Int) throws -> GeneratedAnswer

    /// Tokens of a plain text (no chat template).
    func tokenize(_ text: String) throws -> [Int32]

    /// Teacher-forced next-token logits: `tokens[0..<start]` are prefilled (dense), then
    /// `tokens[start..<tokens.count - 1]` are decoded one step each under `method`.
    /// - Returns: `[tokens.count - 1 - start, V]` row-major; row `i` predicts `tokens[start + 1 + i]`.
    func decodeLogits(_ tokens: [Int32], start: Int, method: MethodSpec) throws -> [Float]
}

/// A generated answer and the attention work done for it.
public struct GeneratedAnswer: Codable, Hashable, Sendable {
    /// The decoded text.
    public var text: String
    /// Decode steps taken.
    public var steps: Int
    /// Mean keys read per decode step, per layer and query head.
    public var keysPerStep: Double
    /// Mean keys dense attention would read per decode step, per layer and query head.
    public var denseKeysPerStep: Double

    /// Creates an answer record.
    public init(text: String, steps: Int, keysPerStep: Double, denseKeysPerStep: Double) {
        self.text = text
        self.steps = steps
        self.keysPerStep = keysPerStep
        self.denseKeysPerStep = denseKeysPerStep
    }
}
