/// One shape of the prefill check.
public struct PrefillCheckCase: CustomStringConvertible, Sendable {
    /// Element type.
    public var dtype: KVDType
    /// Head dim, sequences, query heads, KV heads, queries `T`, keys `N` (`T <= N`), warps per block.
    public var headDim: Int, batch: Int, queryHeads: Int, kvHeads: Int, queryCount: Int, length: Int, warps: Int
    /// 16-row m-tiles per warp, keys per tile (block shape of the `mma.sync` kernel).
    public var mTiles: Int, tileKeys: Int
    /// Kernel family checked.
    public var engine: PrefillEngine

    /// A case of `t` queries over `n` keys (`t` defaults to `n`).
    public init(_ dtype: KVDType, d: Int, b: Int, h: Int, g: Int, n: Int, t: Int? = nil, warps: Int = 4, mTiles: Int = 1, keys: Int = 64,
                engine: PrefillEngine = .mmaSync) {
        self.dtype = dtype; headDim = d; batch = b; queryHeads = h; kvHeads = g; length = n; queryCount = t ?? n
        self.warps = warps; self.mTiles = mTiles; tileKeys = keys; self.engine = engine
    }

    public var description: String {
        "\(dtype) d=\(headDim) B=\(batch) H=\(queryHeads) G=\(kvHeads) T=\(queryCount) N=\(length) "
            + (engine == .mmaSync ? "\(warps)wx\(mTiles)mx\(tileKeys)" : "\(engine)")
    }
}
