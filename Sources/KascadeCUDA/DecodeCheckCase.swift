/// One shape of the GPU-versus-CPU check.
public struct DecodeCheckCase: Codable, Sendable, CustomStringConvertible {
    /// Element type.
    public var dtype: KVDType
    /// Head dim.
    public var headDim: Int
    /// Sequences.
    public var batch: Int
    /// Query heads.
    public var queryHeads: Int
    /// KV heads.
    public var kvHeads: Int
    /// Context length.
    public var length: Int
    /// Whether keys repeat with period 37, so pooled scores tie exactly.
    public var ties: Bool
    /// Keys per shared-memory tile of the attention kernels.
    public var tile: Int
    /// cp.async pipeline depth of the attention kernels.
    public var stages: Int
    /// Tensor-core kernels.
    public var mma: Bool
    /// L2 prefetch of the tile after the newest stage (``DecodeVariant/prefetch``; tensor-core kernels).
    public var prefetch: Bool

    /// A case.
    public init(_ dtype: KVDType, d: Int, b: Int, h: Int, g: Int, n: Int, ties: Bool = false, tile: Int = 32, stages: Int? = nil,
                mma: Bool = false, prefetch: Bool = true) {
        self.dtype = dtype; headDim = d; batch = b; queryHeads = h; kvHeads = g; length = n; self.ties = ties; self.tile = tile
        self.stages = stages ?? (mma ? 2 : 3)
        self.mma = mma
        self.prefetch = mma && prefetch
        if mma { self.tile = 64 }
    }

    public var description: String {
        let kernels = mma ? " mma x\(stages)\(prefetch ? "" : " p0")" : tile == 32 && stages == 3 ? "" : " tile=\(tile)x\(stages)"
        return "\(dtype) d=\(headDim) B=\(batch) H=\(queryHeads) G=\(kvHeads) N=\(length)\(ties ? " ties" : "")\(kernels)"
    }
}
