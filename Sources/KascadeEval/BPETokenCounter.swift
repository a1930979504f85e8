import KascadeModel

/// Counts tokens with the model's BPE tokenizer (no special tokens parsed).
public struct BPETokenCounter: TokenCounter {
    /// The tokenizer.
    public let tokenizer: BPETokenizer

    /// Wraps `tokenizer`.
    public init(_ tokenizer: BPETokenizer) { self.tokenizer = tokenizer }

    /// Tokens of `text`.
    public func count(_ text: String) -> Int { tokenizer.encode(text, parseSpecial: false).count }
}
