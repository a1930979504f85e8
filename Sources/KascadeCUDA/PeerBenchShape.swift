/// Timings of the peer methods and dense decode at one (batch, context) shape, from one run.
public struct PeerBenchShape: Codable, Sendable {
    /// Input mode (random: flat attention; peaked: heavy keys shared by a group's heads).
    public var mode: PeerInputMode
    /// Sequences.
    public var batch: Int
    /// Context length.
    public var length: Int
    /// Budget in keys per query head (`Budget(fraction:).keys(outOf: N)`).
    public var k: Int
    /// Kernel name -> timing: `dense`, `quest`, `twilight`, `vattention` (selection + attention of one
    /// step), `quest.scan`, `twilight.scan` (the same with the earlier position-split attention that scans
    /// the whole mask), `quest.append`, `twilight.append` (bringing the page bounds / 4-bit copy up to date
    /// for one appended token).
    public var kernels: [String: KernelTiming]
    /// Method -> dense time / method time.
    public var speedupOverDense: [String: Double]
    /// Quest pages per query head.
    public var questPages: Int
    /// Twilight's candidate pages per query head (base budget B0).
    public var twilightCandidatePages: Int
    /// Twilight's mean kept keys per query head.
    public var twilightMeanKept: Double
    /// vAttention's mean sample size `b` per query head.
    public var vattentionMeanSample: Double
    /// Mean share of the softmax mass on the top 10% of the keys (two (sequence, KV head) rows, all their heads).
    public var topTenthMass: Double
    /// Quest: mean fraction of the pages the group's attention reads (the union of its heads' pages).
    public var questListedFraction: Double
    /// Twilight: mean fraction of the pages in the union of the group's candidate pages.
    public var twilightListedFraction: Double
}
