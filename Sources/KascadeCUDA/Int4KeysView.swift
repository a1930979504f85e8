/// Device addresses of Twilight's 4-bit key copy for one layer: `codes [B, G, capacity, d/2]` (two
/// codes a byte: byte `j` of each 16-dimension block holds dimension `j` low, `j + 8` high) and
/// per-token `scales`, `zeros` `[B, G, capacity]` fp32 (`k ~ zero + scale * code`).
public struct Int4KeysView {
    /// Packed codes.
    public var codes: UInt64
    /// Quantisation steps `(max - min) / 15`.
    public var scales: UInt64
    /// Zero points (row minima).
    public var zeros: UInt64
    /// Positions reserved per (sequence, KV head).
    public var capacity: Int

    /// Bundles the addresses.
    public init(codes: UInt64, scales: UInt64, zeros: UInt64, capacity: Int) {
        self.codes = codes; self.scales = scales; self.zeros = zeros; self.capacity = capacity
    }

    /// Bytes of the codes and of each per-token array for `batch` x `kvHeads` rows.
    public static func bytes(batch: Int, kvHeads: Int, capacity: Int, headDim: Int) -> (codes: Int, perToken: Int) {
        (batch * kvHeads * capacity * headDim / 2, batch * kvHeads * capacity * 4)
    }
}
