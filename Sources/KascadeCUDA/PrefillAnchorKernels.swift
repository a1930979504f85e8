import KascadeCore

/// Kascade prefill anchor on tensor cores (Deshmukh et al., arXiv 2512.16391; SPEC 2.2): per
/// 32-query tile and KV head, the tile-pooled full-softmax scores of the keys before the tile, and
/// their per-tile top `k_t` (rolling budget) in the selection layout of ``PrefillReuseKernels``.
///
/// A layer runs ``lse(q:k:batch:queryCount:length:capacity:lse:stream:)`` (or takes the
/// log-sum-exp the dense kernel writes), then ``select(q:k:lse:plan:capacity:scores:idx:counts:stream:)``,
/// then the anchor's own attention: ``PrefillReuseKernels/reuse(q:k:v:batch:queryCount:length:capacity:idx:counts:idxHeads:cap:headMap:out:stream:)``
/// with the identity head map over this selection (plus the diagonal block).
///
/// Two kernel families (``PrefillEngine``): `mma.sync` (any GPU, GQA groups up to 8), and on Hopper
/// warpgroup products (`wgmma`) on TMA-loaded tiles: the log-sum-exp from the dense `wgmma` kernel
/// built without its value product, and the scores with one block of 32 positions x `GROUP` heads
/// whose two consumer warpgroups split each 128-key tile (groups 2 and 4; others keep the
/// `mma.sync` scores). The `wgmma` scores come in the layouts of ``AnchorScoresLayout``: the
/// transposed product `K Q^T` (default: one key per accumulator row, pooled by row sums in
/// registers) and `Q K^T` (column sums through shuffles and shared memory).
public final class PrefillAnchorKernels {
    /// Owning device.
    public let device: CUDADevice
    /// Element type of queries and keys.
    public let dtype: KVDType
    /// Head dim `d`, query heads `H`, KV heads `G`.
    public let headDim: Int, queryHeads: Int, kvHeads: Int
    /// Keys per shared-memory tile of the scoring passes.
    public static let keysPerBlock = 64

    /// Kernel family of the log-sum-exp pass (`.wgmma` or `.mmaSync`).
    public let lseEngine: PrefillEngine
    /// Kernel family of the scoring pass (`.wgmma` or `.mmaSync`).
    public let scoresEngine: PrefillEngine
    /// Layout of the `wgmma` scoring kernel (nil where the scores run on `mma.sync`).
    public let scoresLayout: AnchorScoresLayout?
    /// Layout of the `wgmma` scoring kernel when none is asked for.
    public static let defaultScoresLayout = AnchorScoresLayout.kq

    let module: CUDAModule
    let lseFn: KernelFunction, scoresFn: KernelFunction, selectFn: KernelFunction, poolHeadsFn: KernelFunction
    let wgmmaModule: CUDAModule?
    let lseWgmmaFn: KernelFunction?, scoresWgmmaFn: KernelFunction?

    /// Shared-memory stages of key tiles of the `wgmma` passes.
    static let wgmmaStages = 3

    /// Compiles (or loads from the cache) the kernels: one warp per query head of a group (group <= 8).
    /// `engine: .auto` takes `wgmma` where it runs (kernels compiled for `sm_90a`, a driver with
    /// `cuTensorMapEncodeTiled`); `.wgmma` throws `.unsupported` where it cannot run.
    /// `scoresLayout` picks the `wgmma` scoring kernel.
    public init(device: CUDADevice, compiler: KernelCompiler, dtype: KVDType, headDim: Int,
                queryHeads: Int, kvHeads: Int, engine: PrefillEngine = .auto,
                scoresLayout layout: AnchorScoresLayout = PrefillAnchorKernels.defaultScoresLayout) throws(CUDAError) {
        let group = try KernelShape.group(headDim: headDim, queryHeads: queryHeads, kvHeads: kvHeads, maxGroup: 8,
                                          what: "the prefill anchor")
        guard kvHeads < 65536 else { throw .unsupported("KV heads \(kvHeads)") }
        self.device = device
        self.dtype = dtype
        self.headDim = headDim
        self.queryHeads = queryHeads
        self.kvHeads = kvHeads
        module = try CUDAModule(device: device, cubin: try compiler.cubin(.prefillAnchor, defines: [
            "KV_BF16": dtype == .bf16 ? "1" : "0", "HEAD_DIM": "\(headDim)", "GROUP": "\(group)"]))
        lseFn = try module.function("anchor_lse")
        scoresFn = try module.function("anchor_scores")
        selectFn = try module.function("anchor_select")
        poolHeadsFn = try module.function("anchor_pool_heads")
        let wgmmaRuns = compiler.architecture == "sm_90a" && device.driver.cuTensorMapEncodeTiled != nil
        if engine == .wgmma && !wgmmaRuns {
            throw .unsupported("the wgmma anchor kernels need sm_90a and cuTensorMapEncodeTiled (compiling for \(compiler.architecture))")
        }
        if engine != .mmaSync && wgmmaRuns {
            let m = try CUDAModule(device: device, cubin: try compiler.cubin(.prefillAnchorWgmma, defines: [
                "KV_BF16": dtype == .bf16 ? "1" : "0", "HEAD_DIM": "\(headDim)", "GROUP": "\(group)", "LSE_ONLY": "1",
                "TILE_N": "\(PrefillKernels.wgmmaTileKeys)", "STAGES": "\(PrefillAnchorKernels.wgmmaStages)"]))
            wgmmaModule = m
            lseWgmmaFn = try m.function("prefill_wgmma")
            scoresWgmmaFn = group == 2 || group == 4
                ? try m.function(layout.kernelName) : nil
        } else {
            wgmmaModule = nil; lseWgmmaFn = nil; scoresWgmmaFn = nil
        }
        lseEngine = lseWgmmaFn != nil ? .wgmma : .mmaSync
        scoresEngine = scoresWgmmaFn != nil ? .wgmma : .mmaSync
        scoresLayout = scoresWgmmaFn != nil ? layout : nil
    }

    /// Short name of the kernel families: `lse-wgmma/scores-wgmmaT` (transposed scores), `lse-wgmma/scores-mmaSync` and so on.
    public var variant: String { "lse-\(lseEngine)/scores-\(scoresEngine)\(scoresLayout?.suffix ?? "")" }

    /// Dynamic shared memory of the `wgmma` log-sum-exp pass: query tile, key stages, barriers, alignment slack.
    var lseWgmmaSharedBytes: Int {
        (headDim / 64) * (128 + PrefillAnchorKernels.wgmmaStages * PrefillKernels.wgmmaTileKeys) * 128
            + 8 * (1 + 4 * PrefillAnchorKernels.wgmmaStages) + 1024
    }
    /// Dynamic shared memory of the `wgmma` scoring pass: the block's query rows, key stages, two
    /// buffers of per-warp column sums per consumer warpgroup, barriers, alignment slack.
    var scoresWgmmaSharedBytes: Int {
        let keys = PrefillKernels.wgmmaTileKeys
        return (headDim / 64) * 32 * group * 128 + PrefillAnchorKernels.wgmmaStages * (headDim / 64) * keys * 128
            + 2 * 2 * 4 * (keys / 2) * 4 + 8 * (1 + 2 * PrefillAnchorKernels.wgmmaStages) + 1024
    }

    var group: Int { queryHeads / kvHeads }
    var rowBytes: Int { headDim * 2 + 16 }
    /// Dynamic shared memory of the log-sum-exp pass: the block's queries and two key stages.
    public var lseSharedBytes: Int { (32 * group + 2 * PrefillAnchorKernels.keysPerBlock) * rowBytes }
    /// Dynamic shared memory of the scoring pass: as the log-sum-exp pass plus the per-warp column sums.
    public var scoresSharedBytes: Int { lseSharedBytes + group * PrefillAnchorKernels.keysPerBlock * 4 }
    /// Registers per thread of the scoring pass (the engine in use).
    public var scoreRegisters: Int { (scoresWgmmaFn ?? scoresFn).registers }

    private func checkShape(batch: Int, queryCount T: Int, length N: Int, capacity: Int) throws(CUDAError) {
        guard batch > 0, T > 0, T <= N, N <= capacity else {
            throw .badArgument("prefill anchor needs B > 0 and 0 < T <= N <= capacity (B=\(batch), T=\(T), N=\(N), cap=\(capacity))")
        }
        guard batch < 65536, capacity < Int(Int32.max) - 64 else { throw .unsupported("batch \(batch), context \(capacity)") }
    }

    /// Per-row log-sum-exp (natural log) of causal attention, without the value product: `q`
    /// `[B, H, T, d]`, `k` `[B, G, capacity, d]`, `lse` `[B, H, T]` fp32; bottom-right aligned.
    public func lse(q: UInt64, k: UInt64, batch: Int, queryCount: Int, length: Int, capacity: Int? = nil,
                    lse: UInt64, stream: CUDAStream) throws(CUDAError) {
        let cap = capacity ?? length
        try checkShape(batch: batch, queryCount: queryCount, length: length, capacity: cap)
        if let fn = lseWgmmaFn {
            let maps = PrefillKernels.wgmmaTensorMaps(q: q, k: k, v: k, batch: batch, queryHeads: queryHeads, kvHeads: kvHeads,
                                                      headDim: headDim, queryCount: queryCount, length: length, capacity: cap)
            try TensorMapLaunch.launch(fn, maps: [maps[0], maps[1], nil],
                                       args: [.int32(Int32(queryCount)), .int32(Int32(length)), .int32(Int32(group)),
                                              .float(1 / Float(headDim).squareRoot()), .null, .pointer(lse)],
                                       grid: ((queryCount + 127) / 128, queryHeads, batch), block: 384,
                                       sharedBytes: lseWgmmaSharedBytes, stream: stream)
            return
        }
        let rows = SparseAttention.tileRows(queryCount: queryCount, length: length, tile: PrefillAnchorPlan.tile)
        try lseFn.launch(grid: (rows, kvHeads, batch), block: 32 * group, sharedBytes: lseSharedBytes, stream: stream,
                         [.pointer(q), .pointer(k), .int64(Int64(kvHeads * cap * headDim)), .int64(Int64(cap * headDim)),
                          .int32(Int32(queryCount)), .int32(Int32(length)), .float(1 / Float(headDim).squareRoot()), .pointer(lse)])
    }

    /// Pooled scores of one chunk into `scores` (`[B, G, chunk.tiles, chunk.stride]` fp32, at least
    /// ``PrefillAnchorPlan/scoreBytes``), from the log-sum-exp `lse` `[B, H, T]`.
    public func scores(q: UInt64, k: UInt64, lse: UInt64, plan: PrefillAnchorPlan, chunk: PrefillAnchorPlan.Chunk,
                       capacity: Int? = nil, scores: UInt64, stream: CUDAStream) throws(CUDAError) {
        let cap = capacity ?? plan.length
        try checkShape(batch: plan.batch, queryCount: plan.queryCount, length: plan.length, capacity: cap)
        guard plan.kvHeads == kvHeads else { throw .badArgument("plan for \(plan.kvHeads) KV heads, kernels for \(kvHeads)") }
        if let fn = scoresWgmmaFn {
            var maps = PrefillKernels.wgmmaTensorMaps(q: q, k: k, v: k, batch: plan.batch, queryHeads: queryHeads, kvHeads: kvHeads,
                                                      headDim: headDim, queryCount: plan.queryCount, length: plan.length, capacity: cap)
            maps[0].box = [64, UInt32(PrefillAnchorPlan.tile), 1]          // 32 positions of one head per load
            try TensorMapLaunch.launch(fn, maps: [maps[0], maps[1], nil],
                                       args: [.int32(Int32(plan.queryCount)), .int32(Int32(plan.length)),
                                              .float(1 / Float(headDim).squareRoot()), .pointer(lse),
                                              .int32(Int32(chunk.tileLo)), .int32(Int32(chunk.tiles)), .pointer(scores),
                                              .int64(Int64(chunk.stride)), .int64(Int64(bitPattern: plan.budget.fraction.bitPattern)),
                                              .int32(Int32(min(plan.budget.kMin, Int(Int32.max))))],
                                       grid: (chunk.tiles, kvHeads, plan.batch), block: 384,
                                       sharedBytes: scoresWgmmaSharedBytes, stream: stream)
            return
        }
        try scoresFn.launch(grid: (chunk.tiles, kvHeads, plan.batch), block: 32 * group, sharedBytes: scoresSharedBytes, stream: stream,
                            [.pointer(q), .pointer(k), .int64(Int64(kvHeads * cap * headDim)), .int64(Int64(cap * headDim)),
                             .int32(Int32(plan.queryCount)), .int32(Int32(plan.length)), .float(1 / Float(headDim).squareRoot()),
                             .pointer(lse), .int32(Int32(chunk.tileLo)), .int32(Int32(chunk.tiles)), .pointer(scores),
                             .int64(Int64(chunk.stride)), .int64(Int64(bitPattern: plan.budget.fraction.bitPattern)),
                             .int32(Int32(min(plan.budget.kMin, Int(Int32.max))))])
    }

    /// Top `k_t` of each row of one chunk from `scores` into `idx` `[B, G, plan.rows, plan.capacity]`
    /// (ascending positions) and `counts` `[B, G, plan.rows]`, int32.
    public func rank(plan: PrefillAnchorPlan, chunk: PrefillAnchorPlan.Chunk, scores: UInt64, idx: UInt64, counts: UInt64,
                     stream: CUDAStream) throws(CUDAError) {
        guard plan.kvHeads == kvHeads else { throw .badArgument("plan for \(plan.kvHeads) KV heads, kernels for \(kvHeads)") }
        try selectFn.launch(grid: (chunk.tiles, kvHeads, plan.batch), block: 1024, stream: stream,
                            [.pointer(scores), .int64(Int64(chunk.stride)), .int32(Int32(chunk.tileLo)), .int32(Int32(chunk.tiles)),
                             .int32(Int32(plan.queryCount)), .int32(Int32(plan.length)),
                             .int64(Int64(bitPattern: plan.budget.fraction.bitPattern)),
                             .int32(Int32(min(plan.budget.kMin, Int(Int32.max)))), .pointer(idx), .pointer(counts),
                             .int32(Int32(plan.rows)), .int32(Int32(max(plan.capacity, 1)))])
    }

    /// Kascade's `pooled` variant: for each chunk, its scores summed over the KV heads into
    /// `pooledScores` (at least ``PrefillAnchorPlan/scoreBytes`` / G), then one top-k per tile into
    /// `idx` `[B, 1, plan.rows, plan.capacity]` and `counts` `[B, 1, plan.rows]`.
    public func selectPooled(q: UInt64, k: UInt64, lse: UInt64, plan: PrefillAnchorPlan, capacity: Int? = nil,
                             scores: UInt64, pooledScores: UInt64, idx: UInt64, counts: UInt64,
                             stream: CUDAStream) throws(CUDAError) {
        for chunk in plan.chunks {
            try self.scores(q: q, k: k, lse: lse, plan: plan, chunk: chunk, capacity: capacity, scores: scores, stream: stream)
            let rowFloats = chunk.tiles * chunk.stride
            try poolHeadsFn.launch(grid: (min(4 * device.multiprocessors, max(1, (rowFloats + 255) / 256)), plan.batch, 1),
                                   block: 256, stream: stream,
                                   [.pointer(scores), .pointer(pooledScores), .int64(Int64(rowFloats)), .int32(Int32(kvHeads))])
            try selectFn.launch(grid: (chunk.tiles, 1, plan.batch), block: 1024, stream: stream,
                                [.pointer(pooledScores), .int64(Int64(chunk.stride)), .int32(Int32(chunk.tileLo)), .int32(Int32(chunk.tiles)),
                                 .int32(Int32(plan.queryCount)), .int32(Int32(plan.length)),
                                 .int64(Int64(bitPattern: plan.budget.fraction.bitPattern)),
                                 .int32(Int32(min(plan.budget.kMin, Int(Int32.max)))), .pointer(idx), .pointer(counts),
                                 .int32(Int32(plan.rows)), .int32(Int32(max(plan.capacity, 1)))])
        }
    }

    /// The whole selection: for each chunk, its scores, then its top-k.
    public func select(q: UInt64, k: UInt64, lse: UInt64, plan: PrefillAnchorPlan, capacity: Int? = nil,
                       scores: UInt64, idx: UInt64, counts: UInt64, stream: CUDAStream) throws(CUDAError) {
        for chunk in plan.chunks {
            try self.scores(q: q, k: k, lse: lse, plan: plan, chunk: chunk, capacity: capacity, scores: scores, stream: stream)
            try rank(plan: plan, chunk: chunk, scores: scores, idx: idx, counts: counts, stream: stream)
        }
    }
}
