/// Device addresses of Quest's page bounds for one layer: `min`, `max` `[B, G, pageCapacity, d]` in
/// the kernels' element type (exact: each is one of the page's key elements).
public struct QuestPagesView {
    /// Element-wise minima.
    public var min: UInt64
    /// Element-wise maxima.
    public var max: UInt64
    /// Pages reserved per (sequence, KV head).
    public var pageCapacity: Int

    /// Bundles the addresses.
    public init(min: UInt64, max: UInt64, pageCapacity: Int) {
        self.min = min; self.max = max; self.pageCapacity = pageCapacity
    }

    /// Bytes of one bounds array for `batch` sequences, `kvHeads` heads, head dim `headDim`.
    public static func bytes(batch: Int, kvHeads: Int, pageCapacity: Int, headDim: Int) -> Int {
        batch * kvHeads * pageCapacity * headDim * 2
    }
}
