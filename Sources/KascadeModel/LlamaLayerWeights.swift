/// Weights of one transformer block, read in place from the model file.
struct LlamaLayerWeights: @unchecked Sendable {
    /// `[width]` RMSNorm gain before attention.
    let attentionNorm: [Float]
    /// `[H * d, width]`.
    let query: WeightMatrix
    /// `[G * d, width]`.
    let key: WeightMatrix
    /// `[G * d, width]`.
    let value: WeightMatrix
    /// `[width, H * d]`.
    let output: WeightMatrix
    /// `[width]` RMSNorm gain before the feed-forward block.
    let ffnNorm: [Float]
    /// `[ffn, width]`.
    let gate: WeightMatrix
    /// `[ffn, width]`.
    let up: WeightMatrix
    /// `[width, ffn]`.
    let down: WeightMatrix
}
