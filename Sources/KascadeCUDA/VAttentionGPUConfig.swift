/// vAttention's settings for one decode step on the GPU (SPEC 2.5).
public struct VAttentionGPUConfig {
    /// Sink keys at the start, always read.
    public var sinks = 128
    /// Most recent keys, always read.
    public var window = 128
    /// Relative error bound on numerator and denominator.
    public var epsilon = 0.05
    /// Failure probability of the bound.
    public var delta = 0.05
    /// Seed of the sampled tail.
    public var seed: UInt64 = 0
    /// Layer index (part of the sampling stream, as on the CPU).
    public var layer = 0

    /// The defaults: 128 sinks, 128 window keys, `epsilon = delta = 0.05`, seed 0, layer 0.
    public init(sinks: Int = 128, window: Int = 128, epsilon: Double = 0.05, delta: Double = 0.05, seed: UInt64 = 0, layer: Int = 0) {
        self.sinks = sinks; self.window = window; self.epsilon = epsilon; self.delta = delta; self.seed = seed; self.layer = layer
    }
}
