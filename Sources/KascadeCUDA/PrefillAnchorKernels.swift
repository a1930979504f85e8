import KascadeCore

/// Kascade prefill anchor on tensor cores (Deshmukh et al., arXiv 2512.16391; SPEC 2.2): per
/// 32-query tile and KV head, the tile-pooled full-softmax scores of the keys before the tile, and
/// their per-tile top `k_t` (rolling budget) in the selection layout of ``PrefillReuseKernels``.
///
/// A layer runs ``lse(q:k:batch:queryCount:length:capacity:lse:stream:)`` (or takes the
/// log-sum-exp the dense kernel writes), then ``select(q:k:lse:plan:capacity:scores:idx:counts:stream:)``,
/// then the anchor's own attention: ``PrefillReuseKernels/reuse(q:k:v:batch:queryCount:length:capacity:idx:counts:idxHeads:cap:headMap:out:stream:)``
/// with the identity head map over this selection (plus the diagonal block).
public final class PrefillAnchorKernels {
    /// Owning device.
    public let device: CUDADevice
    /// Element type of queries and keys.
    public let dtype: KVDType
    /// Head dim `d`, query heads `H`, KV heads `G`.
    public let headDim: Int, queryHeads: Int, kvHeads: Int
    /// Keys per shared-memory tile of the scoring passes.
    public static let keysPerBlock = 64

    let module: CUDAModule
    let lseFn: KernelFunction, scoresFn: KernelFunction, selectFn: KernelFunction

    /// Compiles (or loads from the cache) the kernels: one warp per query head of a group (group <= 8).
    public init(device: CUDADevice, compiler: KernelCompiler, dtype: KVDType, headDim: Int,
                queryHeads: Int, kvHeads: Int) throws(CUDAError) {
        guard headDim == 64 || headDim == 128 else { throw .unsupported("head dim \(headDim) (64 and 128 are built)") }
        guard kvHeads > 0, queryHeads > 0, queryHeads % kvHeads == 0 else {
            throw .badArgument("query heads \(queryHeads) are not a multiple of KV heads \(kvHeads)")
        }
        let group = queryHeads / kvHeads
        guard group <= 8 else { throw .unsupported("GQA group \(group) for the prefill anchor (at most 8)") }
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
    }

    var group: Int { queryHeads / kvHeads }
    var rowBytes: Int { headDim * 2 + 16 }
    /// Dynamic shared memory of the log-sum-exp pass: the block's queries and two key stages.
    public var lseSharedBytes: Int { (32 * group + 2 * PrefillAnchorKernels.keysPerBlock) * rowBytes }
    /// Dynamic shared memory of the scoring pass: as the log-sum-exp pass plus the per-warp column sums.
    public var scoresSharedBytes: Int { lseSharedBytes + group * PrefillAnchorKernels.keysPerBlock * 4 }
    /// Registers per thread of the scoring pass.
    public var scoreRegisters: Int { scoresFn.registers }

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

    /// The whole selection: for each chunk, its scores, then its top-k.
    public func select(q: UInt64, k: UInt64, lse: UInt64, plan: PrefillAnchorPlan, capacity: Int? = nil,
                       scores: UInt64, idx: UInt64, counts: UInt64, stream: CUDAStream) throws(CUDAError) {
        for chunk in plan.chunks {
            try self.scores(q: q, k: k, lse: lse, plan: plan, chunk: chunk, capacity: capacity, scores: scores, stream: stream)
            try rank(plan: plan, chunk: chunk, scores: scores, idx: idx, counts: counts, stream: stream)
        }
    }
}
