/// Kascade prefill reuse on tensor cores (Deshmukh et al., arXiv 2512.16391): per 32-query tile
/// and KV head, the group's query heads attend to the tile's selected keys (read through the head
/// map) plus the tile's causal diagonal block; the same layout as ``KascadeCore/SparseAttention``
/// with `tile: 32`.
///
/// Two kernel families (``PrefillEngine``): `mma.sync` with cp.async double buffering (any GPU, GQA
/// groups up to 8), and on Hopper warpgroup products (`wgmma`): a producer warpgroup gathers the
/// listed key and value rows with cp.async into the 128-byte swizzled layout (three stages), two consumer
/// warpgroups (the tile's 32 positions x `GROUP` heads) run FlashAttention-3's loop (groups 2 and 4).
public final class PrefillReuseKernels {
    /// Owning device.
    public let device: CUDADevice
    /// Element type.
    public let dtype: KVDType
    /// Head dim `d`, query heads `H`, KV heads `G`.
    public let headDim: Int, queryHeads: Int, kvHeads: Int
    /// Query positions per tile.
    public static let tile = 32
    /// Keys per shared-memory tile.
    public var tileKeys: Int { engine == .wgmma ? PrefillKernels.wgmmaTileKeys : 32 }
    /// Kernel family built (`.wgmma` or `.mmaSync`).
    public let engine: PrefillEngine
    /// Shared-memory stages of key and value tiles of the `wgmma` kernel.
    static let wgmmaStages = 3

    let module: CUDAModule
    let reuseFn: KernelFunction

    /// Compiles (or loads from the cache) the kernel: one warp per query head of a group (group <= 8).
    /// `engine: .auto` builds `wgmma` where it runs (`sm_90a`, `cuTensorMapEncodeTiled`, GQA group 2
    /// or 4), else `mma.sync`; `.wgmma` throws `.unsupported` where it cannot run.
    public init(device: CUDADevice, compiler: KernelCompiler, dtype: KVDType, headDim: Int,
                queryHeads: Int, kvHeads: Int, engine: PrefillEngine = .auto) throws(CUDAError) {
        let group = try KernelShape.group(headDim: headDim, queryHeads: queryHeads, kvHeads: kvHeads, maxGroup: 8,
                                          what: "prefill reuse")
        guard kvHeads < 65536 else { throw .unsupported("KV heads \(kvHeads)") }
        self.device = device
        self.dtype = dtype
        self.headDim = headDim
        self.queryHeads = queryHeads
        self.kvHeads = kvHeads
        let wgmmaRuns = compiler.architecture == "sm_90a" && device.driver.cuTensorMapEncodeTiled != nil && (group == 2 || group == 4)
        if engine == .wgmma && !wgmmaRuns {
            throw .unsupported("the wgmma reuse kernel needs sm_90a, cuTensorMapEncodeTiled and a GQA group of 2 or 4 (group \(group), \(compiler.architecture))")
        }
        self.engine = engine != .mmaSync && wgmmaRuns ? .wgmma : .mmaSync
        let kvDefine = dtype == .bf16 ? "1" : "0"
        if self.engine == .wgmma {
            module = try CUDAModule(device: device, cubin: try compiler.cubin(.prefillReuseWgmma, defines: [
                "KV_BF16": kvDefine, "HEAD_DIM": "\(headDim)", "GROUP": "\(group)",
                "TILE_N": "\(PrefillKernels.wgmmaTileKeys)", "STAGES": "\(PrefillReuseKernels.wgmmaStages)"]))
            reuseFn = try module.function("prefill_reuse_wgmma")
        } else {
            module = try CUDAModule(device: device, cubin: try compiler.cubin(.prefillAttention, defines: [
                "KV_BF16": kvDefine, "HEAD_DIM": "\(headDim)", "WARPS": "\(group)", "MTILES": "2", "TILE_KEYS": "32"]))
            reuseFn = try module.function("prefill_reuse")
        }
    }

    /// Dynamic shared memory per block: `wgmma`: the block's query rows, two stages of key and value
    /// tiles, barriers, alignment slack; `mma.sync`: padded query rows and two key and value stages.
    public var sharedBytes: Int {
        let group = queryHeads / kvHeads
        if engine == .wgmma {
            let stages = PrefillReuseKernels.wgmmaStages
            return (headDim / 64) * (32 * group + 2 * stages * PrefillKernels.wgmmaTileKeys) * 128 + 8 * (1 + 4 * stages) + 1024
        }
        return (32 * group + 4 * tileKeys) * (headDim * 2 + 16)
    }

    /// Selection rows for `queryCount` queries over `length` keys: the 32-position tiles they cover.
    public static func rows(queryCount T: Int, length N: Int) -> Int { (N - 1) / tile - (N - T) / tile + 1 }

    /// Sparse causal prefill. `q`, `out` `[B, H, T, d]`; `k`, `v` `[B, G, capacity, d]`; `idx`
    /// `[B, idxHeads, rows, cap]` int32 positions before each row's tile; `counts` `[B, idxHeads, rows]`
    /// int32; `headMap` `[G]` int32 (identity when nil; ignored with one selection head).
    public func reuse(q: UInt64, k: UInt64, v: UInt64, batch: Int, queryCount: Int, length: Int, capacity: Int? = nil,
                      idx: UInt64, counts: UInt64, idxHeads: Int, cap: Int, headMap: UInt64?,
                      out: UInt64, stream: CUDAStream) throws(CUDAError) {
        let kvCap = capacity ?? length
        guard batch > 0, queryCount > 0, queryCount <= length, length <= kvCap else {
            throw .badArgument("prefill needs B > 0 and 0 < T <= N <= capacity (B=\(batch), T=\(queryCount), N=\(length), cap=\(kvCap))")
        }
        guard idxHeads == 1 || idxHeads == kvHeads, cap >= 0 else {
            throw .badArgument("selection of \(idxHeads) heads and row capacity \(cap) for \(kvHeads) KV heads")
        }
        guard batch < 65536, kvCap < Int(Int32.max) else { throw .unsupported("batch \(batch), context \(kvCap)") }
        let rows = PrefillReuseKernels.rows(queryCount: queryCount, length: length)
        if engine == .wgmma {
            var maps = PrefillKernels.wgmmaTensorMaps(q: q, k: k, v: v, batch: batch, queryHeads: queryHeads, kvHeads: kvHeads,
                                                      headDim: headDim, queryCount: queryCount, length: length, capacity: kvCap)
            maps[0].box = [64, UInt32(PrefillReuseKernels.tile), 1]       // 32 positions of one head per load
            for (name, a) in [("k", k), ("v", v)] where a % 16 != 0 {
                throw .badArgument("the wgmma reuse kernel needs 16-byte aligned tensors (\(name) at \(a))")
            }
            try TensorMapLaunch.launch(reuseFn, maps: [maps[0], nil, nil],
                                       args: [.pointer(k), .pointer(v), .int64(Int64(kvHeads * kvCap * headDim)), .int64(Int64(kvCap * headDim)),
                                              .int32(Int32(queryCount)), .int32(Int32(length)), .float(1 / Float(headDim).squareRoot()),
                                              .pointer(idx), .pointer(counts), .int64(Int64(idxHeads * rows * cap)),
                                              .int64(idxHeads == 1 ? 0 : Int64(rows * cap)), .int32(Int32(rows)), .int32(Int32(cap)),
                                              .int32(Int32(idxHeads)), headMap.map { .pointer($0) } ?? .null, .pointer(out)],
                                       grid: (rows, kvHeads, batch), block: 128 * (1 + queryHeads / kvHeads / 2),
                                       sharedBytes: sharedBytes, stream: stream)
            return
        }
        try reuseFn.launch(grid: (rows, kvHeads, batch), block: 32 * (queryHeads / kvHeads), sharedBytes: sharedBytes, stream: stream,
                           [.pointer(q), .pointer(k), .pointer(v), .int64(Int64(kvHeads * kvCap * headDim)), .int64(Int64(kvCap * headDim)),
                            .int32(Int32(queryCount)), .int32(Int32(length)), .float(1 / Float(headDim).squareRoot()),
                            .pointer(idx), .pointer(counts), .int64(Int64(idxHeads * rows * cap)),
                            .int64(idxHeads == 1 ? 0 : Int64(rows * cap)), .int32(Int32(rows)), .int32(Int32(cap)),
                            .int32(Int32(idxHeads)), headMap.map { .pointer($0) } ?? .null, .pointer(out)])
    }
}
