import KascadeCore

/// What one attention method did on the demo prompt.
struct DemoMethodResult: Codable {
    /// Row name: `dense`, `kascade-decode` (dense prefill, Kascade decode) or `kascade` (both).
    var method: String
    /// Policy of the prefill (`dense` or `kascade`); a dense prefill is shared by the rows that use it.
    var prefillMethod: String
    /// The generated answer (after "The pass key is ").
    var answer: String
    /// Whether the answer contains the pass key.
    var found: Bool
    /// Prompt tokens.
    var promptTokens: Int
    /// Wall-clock seconds of the prefill.
    var prefillSeconds: Double
    /// Seconds inside the attention policy during the prefill.
    var prefillAttentionSeconds: Double
    /// Keys read against dense during the prefill.
    var prefillKeys: AttentionStats
    /// Generated tokens.
    var generatedTokens: Int
    /// Decode steps run (the first answer token comes from the prefill's logits).
    var decodeSteps: Int
    /// Wall-clock seconds of decoding (the steps and sampling).
    var decodeSeconds: Double
    /// Seconds inside the attention policy while decoding.
    var decodeAttentionSeconds: Double
    /// Keys read against dense while decoding.
    var decodeKeys: AttentionStats
}
