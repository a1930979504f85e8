import KascadeCore

/// The prefill half of a demo row, shared by the rows that decode after the same prefill.
struct DemoPrefill {
    /// Policy of the prefill.
    var method: String
    /// Wall-clock seconds.
    var seconds: Double
    /// Seconds inside the attention policy.
    var attentionSeconds: Double
    /// Keys read against dense.
    var keys: AttentionStats
    /// Logits `[vocab]` of the last prompt token.
    var logits: [Float]
}
