/// How vAttention predicts the heavy keys it adds to its deterministic set (SPEC 2.5).
public enum VAttentionPredictor: String, Sendable, Hashable, Codable, CaseIterable {
    /// Exact top-k of the scores `q . k` over the candidate keys (an oracle: it scores every key).
    case topK
    /// Quest pages: the pages with the highest upper bound `sum_i max(q_i max_i, q_i min_i)`.
    case questPages
}
