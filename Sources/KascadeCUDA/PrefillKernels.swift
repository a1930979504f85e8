/// Dense causal prefill attention on tensor cores for one (dtype, head dim, GQA geometry); also
/// writes the per-row log-sum-exp that Kascade's anchor layers need (Deshmukh et al.,
/// arXiv 2512.16391). Two kernel families (`PrefillEngine`): on Hopper, warpgroup products
/// (`wgmma`) fed by the tensor memory accelerator with warp specialisation, after FlashAttention-3
/// (Shah et al., arXiv 2407.08608); elsewhere `mma.sync` m16n8k16 with cp.async double buffering,
/// after FlashAttention-2 (Dao, arXiv 2307.08691).
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
    /// Kernel family built (`.wgmma` or `.mmaSync`, never `.auto`).
    public let engine: PrefillEngine
    /// Warps per block (`wgmma`: 12, one producer and two consumer warpgroups).
    public let warps: Int
    /// 16-row m-tiles per warp (1 or 2; `wgmma`: 1, each consumer warp owns 16 of its warpgroup's 64 rows).
    public let mTiles: Int
    /// Keys per shared-memory tile (32 or 64; `wgmma`: 128).
    public let tileKeys: Int
    /// Shared-memory stages of key and value tiles (`mma.sync`: 2; `wgmma`: 2 at d = 128, 3 at d = 64).
    public let stages: Int

    let module: CUDAModule
    let causalFn: KernelFunction

    /// Compiles (or loads from the cache) the kernel. `engine: .auto` with the default block shape
    /// (4 warps, 2 m-tiles, 64 keys) builds the fastest kernel for the device: `wgmma` where it runs
    /// (kernels compiled for `sm_90a`, a driver with `cuTensorMapEncodeTiled`), else that `mma.sync`
    /// block; any other block shape builds that `mma.sync` block. `.wgmma` ignores the block shape.
    /// Throws `.unsupported` for other head dims, warp counts (4, 8), m-tiles per warp (1, 2), key
    /// tiles (32, 64), or `.wgmma` where it cannot run.
    public init(device: CUDADevice, compiler: KernelCompiler, dtype: KVDType, headDim: Int,
                queryHeads: Int, kvHeads: Int, warps: Int = 4, mTiles: Int = 2, tileKeys: Int = 64,
                engine: PrefillEngine = .auto) throws(CUDAError) {
        _ = try KernelShape.group(headDim: headDim, queryHeads: queryHeads, kvHeads: kvHeads, maxGroup: queryHeads,
                                  what: "dense prefill")
        guard warps == 4 || warps == 8 else { throw .unsupported("prefill blocks of \(warps) warps (4 and 8 are built)") }
        guard mTiles == 1 || mTiles == 2 else { throw .unsupported("\(mTiles) m-tiles per warp (1 and 2 are built)") }
        guard tileKeys == 32 || tileKeys == 64 else { throw .unsupported("key tiles of \(tileKeys) (32 and 64 are built)") }
        guard queryHeads < 65536 else { throw .unsupported("query heads \(queryHeads)") }
        let wgmmaRuns = compiler.architecture == "sm_90a" && device.driver.cuTensorMapEncodeTiled != nil
        let built: PrefillEngine
        switch engine {
        case .auto: built = wgmmaRuns && warps == 4 && mTiles == 2 && tileKeys == 64 ? .wgmma : .mmaSync
        case .mmaSync: built = .mmaSync
        case .wgmma:
            guard wgmmaRuns else {
                throw .unsupported("the wgmma prefill kernel needs sm_90a and cuTensorMapEncodeTiled (compiling for \(compiler.architecture))")
            }
            built = .wgmma
        }
        self.device = device
        self.dtype = dtype
        self.headDim = headDim
        self.queryHeads = queryHeads
        self.kvHeads = kvHeads
        self.engine = built
        let kvDefine = dtype == .bf16 ? "1" : "0"
        if built == .wgmma {
            self.warps = 12
            self.mTiles = 1
            self.tileKeys = PrefillKernels.wgmmaTileKeys
            self.stages = headDim == 64 ? 3 : 2
            module = try CUDAModule(device: device, cubin: try compiler.cubin(.prefillWgmma, defines: [
                "KV_BF16": kvDefine, "HEAD_DIM": "\(headDim)", "TILE_N": "\(PrefillKernels.wgmmaTileKeys)", "STAGES": "\(stages)"]))
            causalFn = try module.function("prefill_wgmma")
            let bytes = PrefillKernels.wgmmaSharedBytes(headDim: headDim, stages: stages)
            guard bytes <= device.maxSharedPerBlock else {
                throw .unsupported("prefill_wgmma needs \(bytes) bytes of shared memory, the device allows \(device.maxSharedPerBlock)")
            }
            try device.driver.check(device.driver.cuFuncSetAttribute(causalFn.handle, 8, Int32(bytes)), "cuFuncSetAttribute(prefill_wgmma)")
        } else {
            self.warps = warps
            self.mTiles = mTiles
            self.tileKeys = tileKeys
            self.stages = 2
            module = try CUDAModule(device: device, cubin: try compiler.cubin(.prefillAttention, defines: [
                "KV_BF16": kvDefine, "HEAD_DIM": "\(headDim)", "WARPS": "\(warps)",
                "MTILES": "\(mTiles)", "TILE_KEYS": "\(tileKeys)"]))
            causalFn = try module.function("prefill_causal")
        }
    }

    /// Keys per tile of the `wgmma` kernel.
    static let wgmmaTileKeys = 128

    /// Query rows per block.
    public var blockRows: Int { engine == .wgmma ? 128 : 16 * mTiles * warps }

    /// Dynamic shared memory per block: the query tile and the stages of K and V tiles.
    public var sharedBytes: Int {
        engine == .wgmma ? PrefillKernels.wgmmaSharedBytes(headDim: headDim, stages: stages) : (blockRows + 4 * tileKeys) * (headDim * 2 + 16)
    }

    /// Short name: `wgmma128x128` or `WARPSwxMTILESmxKEYS`.
    public var variant: String { engine == .wgmma ? "wgmma\(blockRows)x\(tileKeys)" : "\(warps)wx\(mTiles)mx\(tileKeys)" }

    /// Shared memory of the `wgmma` kernel: 128-byte slabs of the query tile and of `stages` key and
    /// value tiles, the mbarriers, and slack to align the swizzled tiles to 1024 bytes.
    static func wgmmaSharedBytes(headDim: Int, stages: Int) -> Int {
        (headDim / 64) * (128 + 2 * stages * wgmmaTileKeys) * 128 + 8 * (1 + 4 * stages) + 1024
    }

    /// Causal attention of `queryCount` queries over the first `length` keys, bottom-right aligned
    /// (query `t` sees keys `0 ... length - queryCount + t`).
    ///
    /// `q` is `[B, H, T, d]`, `k` and `v` are `[B, G, capacity, d]` (input type); `out` is
    /// `[B, H, T, d]` (input type); `lse` (optional) is `[B, H, T]` fp32, natural log.
    /// The `wgmma` kernel needs `q`, `k` and `v` 16-byte aligned.
    public func causal(q: UInt64, k: UInt64, v: UInt64, batch: Int, queryCount: Int, length: Int, capacity: Int? = nil,
                       out: UInt64, lse: UInt64? = nil, stream: CUDAStream) throws(CUDAError) {
        let cap = capacity ?? length
        guard batch > 0, queryCount > 0, queryCount <= length, length <= cap else {
            throw .badArgument("prefill needs B > 0 and 0 < T <= N <= capacity (B=\(batch), T=\(queryCount), N=\(length), cap=\(cap))")
        }
        guard batch < 65536 else { throw .unsupported("batch \(batch)") }
        guard cap < Int(Int32.max) else { throw .unsupported("context \(cap)") }
        let blocks = (queryCount + blockRows - 1) / blockRows
        if engine == .wgmma {
            try launchWgmma(q: q, k: k, v: v, batch: batch, queryCount: queryCount, length: length, capacity: cap,
                            blocks: blocks, out: out, lse: lse, stream: stream)
            return
        }
        try causalFn.launch(grid: (blocks, queryHeads, batch), block: 32 * warps, sharedBytes: sharedBytes, stream: stream,
                            [.pointer(q), .pointer(k), .pointer(v), .int64(Int64(kvHeads * cap * headDim)),
                             .int64(Int64(cap * headDim)), .int32(Int32(queryCount)), .int32(Int32(length)),
                             .int32(Int32(queryHeads / kvHeads)), .float(1 / Float(headDim).squareRoot()),
                             .pointer(out), lse.map { .pointer($0) } ?? .null])
    }

    /// One 3-d tensor map of the `wgmma` kernel: element dims (innermost first), byte strides of
    /// dims 1 and 2, and the box copied per load.
    struct TensorMapShape: Equatable {
        /// Global address of element (0, 0, 0).
        var address: UInt64
        /// Elements along (d, rows, heads).
        var dims: [UInt64]
        /// Bytes between consecutive rows and between consecutive heads.
        var strides: [UInt64]
        /// Box (64 columns = 128 bytes for the 128-byte swizzle, rows, 1).
        var box: [UInt32]
    }

    /// The `wgmma` kernel's tensor maps: q as `(d, T, B H)`, k and v as `(d, N, B G)` over a cache
    /// of `capacity` rows, so that rows past `T` or `N` read as zeros.
    static func wgmmaTensorMaps(q: UInt64, k: UInt64, v: UInt64, batch: Int, queryHeads: Int, kvHeads: Int, headDim: Int,
                                queryCount: Int, length: Int, capacity: Int) -> [TensorMapShape] {
        let d = UInt64(headDim), row = 2 * UInt64(headDim)
        let kvBox: [UInt32] = [64, UInt32(wgmmaTileKeys), 1]
        return [TensorMapShape(address: q, dims: [d, UInt64(queryCount), UInt64(batch * queryHeads)],
                               strides: [row, row * UInt64(queryCount)], box: [64, 128, 1]),
                TensorMapShape(address: k, dims: [d, UInt64(length), UInt64(batch * kvHeads)],
                               strides: [row, row * UInt64(capacity)], box: kvBox),
                TensorMapShape(address: v, dims: [d, UInt64(length), UInt64(batch * kvHeads)],
                               strides: [row, row * UInt64(capacity)], box: kvBox)]
    }

    /// Encodes the three tensor maps and launches `prefill_wgmma` with them passed by value, then
    /// T, N, the GQA group, the scale, `out` and `lse`.
    private func launchWgmma(q: UInt64, k: UInt64, v: UInt64, batch: Int, queryCount: Int, length: Int, capacity: Int,
                             blocks: Int, out: UInt64, lse: UInt64?, stream: CUDAStream) throws(CUDAError) {
        let maps = PrefillKernels.wgmmaTensorMaps(q: q, k: k, v: v, batch: batch, queryHeads: queryHeads, kvHeads: kvHeads,
                                                  headDim: headDim, queryCount: queryCount, length: length, capacity: capacity)
        try TensorMapLaunch.launch(causalFn, maps: maps,
                                   args: [.int32(Int32(queryCount)), .int32(Int32(length)), .int32(Int32(queryHeads / kvHeads)),
                                          .float(1 / Float(headDim).squareRoot()), .pointer(out), lse.map { .pointer($0) } ?? .null],
                                   grid: (blocks, queryHeads, batch), block: 384, sharedBytes: sharedBytes, stream: stream)
    }

    /// Multiply-adds times two of causal attention: `4 B H d (T N - T (T - 1) / 2)`.
    public static func flops(batch: Int, queryHeads: Int, headDim: Int, queryCount: Int, length: Int) -> Double {
        let t = Double(queryCount), n = Double(length)
        return 4 * Double(batch * queryHeads * headDim) * (t * n - t * (t - 1) / 2)
    }
}
