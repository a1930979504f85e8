/// Timing of the dense causal prefill kernel at one shape and block size.
public struct PrefillBenchShape: Codable, Sendable {
    /// Sequences, queries `T` (= keys `N`).
    public var batch: Int, length: Int
    /// Block shape `WARPSwxMTILESmxKEYS`.
    public var variant: String
    /// Median and fastest milliseconds, timed runs.
    public var medianMs: Double, minMs: Double, runs: Int
    /// Causal FLOPs `4 B H d (T N - T (T - 1) / 2)`.
    public var flops: Double
    /// `flops / median` in TFLOP/s.
    public var tflops: Double
}
