/// One evaluation item: the prompt is the context, then the question, in the model's chat template;
/// the item is answered correctly when the generated text contains `answer` (see `Scoring`).
public struct EvalItem: Codable, Hashable, Sendable {
    /// Stable identifier, e.g. `passkey@4096#2`.
    public var id: String
    /// Task the item belongs to.
    public var task: TaskKind
    /// Context length in tokens the item was generated for (0 for user items).
    public var contextLength: Int
    /// The long text.
    public var context: String
    /// The question asked after the context.
    public var question: String
    /// The expected answer.
    public var answer: String

    /// Creates an item.
    public init(id: String, task: TaskKind, contextLength: Int, context: String, question: String, answer: String) {
        self.id = id
        self.task = task
        self.contextLength = contextLength
        self.context = context
        self.question = question
        self.answer = answer
    }

    /// FNV-1a hash of context, question and answer, hex: tells whether a stored result is for this exact item.
    public var fingerprint: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in [context, question, answer] {
            for b in part.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
            h = (h ^ 0xff) &* 0x0000_0100_0000_01b3
        }
        return String(h, radix: 16)
    }

    /// Non-overlapping occurrences of `answer` in `context`.
    public var answerOccurrences: Int { Scoring.occurrences(of: answer, in: context) }
}
