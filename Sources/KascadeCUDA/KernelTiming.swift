/// Timing of one kernel (or pipeline) at one shape.
public struct KernelTiming: Codable, Sendable {
    /// Median milliseconds over the timed runs.
    public var medianMs: Double
    /// Fastest run, milliseconds.
    public var minMs: Double
    /// Timed runs.
    public var runs: Int
    /// Bytes the kernel must move through device memory (inputs read once, outputs written once).
    public var bytes: Double
    /// `bytes / median` in TB/s.
    public var tbPerSecond: Double
}
