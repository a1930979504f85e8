/// Counts the tokens of a text, so tasks can be sized to a context length.
///
/// Runs use the model's tokenizer; tests use `WordTokenCounter`.
public protocol TokenCounter {
    /// Tokens of `text` when encoded alone (no special tokens added).
    func count(_ text: String) -> Int
}
