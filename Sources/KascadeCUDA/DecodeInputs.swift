/// Device addresses and sizes of one decode step's inputs.
///
/// `q` is `[B, H, d]`; `k` and `v` are `[B, G, capacity, d]` with the first `length` positions valid;
/// all in the kernels' element type.
public struct DecodeInputs {
    /// Queries `[B, H, d]`.
    public var q: UInt64
    /// Keys `[B, G, capacity, d]`.
    public var k: UInt64
    /// Values `[B, G, capacity, d]`.
    public var v: UInt64
    /// Sequences `B`.
    public var batch: Int
    /// Valid positions `N`.
    public var length: Int
    /// Positions reserved per KV head.
    public var capacity: Int

    /// Bundles the addresses; `capacity` defaults to `length`.
    public init(q: UInt64, k: UInt64, v: UInt64, batch: Int, length: Int, capacity: Int? = nil) {
        self.q = q; self.k = k; self.v = v
        self.batch = batch; self.length = length; self.capacity = capacity ?? length
    }
}
