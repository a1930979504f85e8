/// Dense causal prefill attention on tensor cores for one (dtype, head dim, GQA geometry), after
/// FlashAttention-2 (Dao, arXiv 2307.08691): `mma.sync` m16n8k16, online softmax, cp.async double
/// buffering; also writes the per-row log-sum-exp that Kascade's anchor layers need
/// (Deshmukh et al., arXiv 2512.16391).
public final class PrefillKernels {
    /// Owning device.
    public let device: CUDADevice
    /// Element type of queries, keys, values and output.
    public let dtype: KVDType
    /// Head dim `d`.
    public let headDim: Int
    /// Query heads `H`.
    public let queryHeads: Int
    /// KV heads `G`.
    public let kvHeads: Int
    /// Warps per block; a block owns `16 * mTiles * warps` query rows.
    public let warps: Int
    /// 16-row m-tiles per warp (1 or 2).
    public let mTiles: Int
    /// Keys per shared-memory tile (32 or 64).
    public let tileKeys: Int

    let module: CUDAModule
    let causalFn: KernelFunction

    /// Compiles (or loads from the cache) the kernel; throws `.unsupported` for other head dims,
    /// warp counts (4, 8), m-tiles per warp (1, 2) or key tiles (32, 64).
    public init(device: CUDADevice, compiler: KernelCompiler, dtype: KVDType, headDim: Int,
                queryHeads: Int, kvHeads: Int, warps: Int = 4, mTiles: Int = 2, tileKeys: Int = 64) throws(CUDAError) {
        guard headDim == 64 || headDim == 128 else { throw .unsupported("head dim \(headDim) (64 and 128 are built)") }
        guard warps == 4 || warps == 8 else { throw .unsupported("prefill blocks of \(warps) warps (4 and 8 are built)") }
        guard mTiles == 1 || mTiles == 2 else { throw .unsupported("\(mTiles) m-tiles per warp (1 and 2 are built)") }
        guard tileKeys == 32 || tileKeys == 64 else { throw .unsupported("key tiles of \(tileKeys) (32 and 64 are built)") }
        guard kvHeads > 0, queryHeads > 0, queryHeads % kvHeads == 0 else {
            throw .badArgument("query heads \(queryHeads) are not a multiple of KV heads \(kvHeads)")
        }
        guard queryHeads < 65536 else { throw .unsupported("query heads \(queryHeads)") }
        self.device = device
        self.dtype = dtype
        self.headDim = headDim
        self.queryHeads = queryHeads
        self.kvHeads = kvHeads
        self.warps = warps
        self.mTiles = mTiles
        self.tileKeys = tileKeys
        module = try CUDAModule(device: device, cubin: try compiler.cubin(.prefillAttention, defines: [
            "KV_BF16": dtype == .bf16 ? "1" : "0", "HEAD_DIM": "\(headDim)", "WARPS": "\(warps)",
            "MTILES": "\(mTiles)", "TILE_KEYS": "\(tileKeys)"]))
        causalFn = try module.function("prefill_causal")
    }

    /// Query rows per block.
    public var blockRows: Int { 16 * mTiles * warps }

    /// Dynamic shared memory per block: the query tile and two stages of K and V tiles.
    public var sharedBytes: Int { (blockRows + 4 * tileKeys) * (headDim * 2 + 16) }

    /// Short name: `WARPSwxMTILESmxKEYS`.
    public var variant: String { "\(warps)wx\(mTiles)mx\(tileKeys)" }

    /// Causal attention of `queryCount` queries over the first `length` keys, bottom-right aligned
    /// (query `t` sees keys `0 ... length - queryCount + t`).
    ///
    /// `q` is `[B, H, T, d]`, `k` and `v` are `[B, G, capacity, d]` (input type); `out` is
    /// `[B, H, T, d]` (input type); `lse` (optional) is `[B, H, T]` fp32, natural log.
    public func causal(q: UInt64, k: UInt64, v: UInt64, batch: Int, queryCount: Int, length: Int, capacity: Int? = nil,
                       out: UInt64, lse: UInt64? = nil, stream: CUDAStream) throws(CUDAError) {
        let cap = capacity ?? length
        guard batch > 0, queryCount > 0, queryCount <= length, length <= cap else {
            throw .badArgument("prefill needs B > 0 and 0 < T <= N <= capacity (B=\(batch), T=\(queryCount), N=\(length), cap=\(cap))")
        }
        guard batch < 65536 else { throw .unsupported("batch \(batch)") }
        guard cap < Int(Int32.max) else { throw .unsupported("context \(cap)") }
        let blocks = (queryCount + blockRows - 1) / blockRows
        try causalFn.launch(grid: (blocks, queryHeads, batch), block: 32 * warps, sharedBytes: sharedBytes, stream: stream,
                            [.pointer(q), .pointer(k), .pointer(v), .int64(Int64(kvHeads * cap * headDim)),
                             .int64(Int64(cap * headDim)), .int32(Int32(queryCount)), .int32(Int32(length)),
                             .int32(Int32(queryHeads / kvHeads)), .float(1 / Float(headDim).squareRoot()),
                             .pointer(out), lse.map { .pointer($0) } ?? .null])
    }

    /// Multiply-adds times two of causal attention: `4 B H d (T N - T (T - 1) / 2)`.
    public static func flops(batch: Int, queryHeads: Int, headDim: Int, queryCount: Int, length: Int) -> Double {
        let t = Double(queryCount), n = Double(length)
        return 4 * Double(batch * queryHeads * headDim) * (t * n - t * (t - 1) / 2)
    }
}
