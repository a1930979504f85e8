import KascadeCore

/// What one attention method did on the demo prompt.
struct DemoMethodResult: Codable {
    /// Method name (`dense`, `kascade`).
    var method: String
    /// The generated answer (after "The pass key is").
    var answer: String
    /// Whether the answer contains the pass key.
    var found: Bool
    /// Prompt tokens and wall-clock seconds of the prefill.
    var promptTokens: Int
    var prefillSeconds: Double
    /// Generated tokens and wall-clock seconds of decoding them.
    var generatedTokens: Int
    var decodeSeconds: Double
    /// Seconds inside the attention policy during prefill and during decoding.
    var prefillAttentionSeconds: Double
    var decodeAttentionSeconds: Double
    /// Keys read against dense during prefill and during decoding.
    var prefillKeys: AttentionStats
    var decodeKeys: AttentionStats

    /// Fraction of dense attention work skipped, `1 - keysRead / denseKeys`.
    static func saved(_ s: AttentionStats) -> Double { 1 - s.readFraction }
}
