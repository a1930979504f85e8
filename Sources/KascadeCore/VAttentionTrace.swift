/// A full record of one vAttention head-step for checking: the sets and the sample-size inputs.
struct VAttentionTrace {
    /// Layer index.
    var layer: Int
    /// Query head.
    var head: Int
    /// Scalars of the step.
    var record: VAttentionHeadRecord
    /// Positions of the deterministic set.
    var deterministic: [Int32]
    /// Sampled positions in draw order (the first `record.pilot` are the pilot).
    var sample: [Int32]
    /// Positions not in the deterministic set (the population sampled from), ascending.
    var population: [Int32]
}
