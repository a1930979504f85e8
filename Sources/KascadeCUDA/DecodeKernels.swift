/// The decode kernels for one (dtype, head dim, group size), compiled for the device, and their
/// host-side launchers (Kascade: Deshmukh et al., arXiv 2512.16391; flash-decoding split-KV).
///
/// Two builds of the attention kernels: `main` for dense decode and anchor scores (streaming
/// reads), `gather` for attention over index lists (anchor output, reuse layers, StreamingLLM; by
/// default the same tensor-core build).
public final class DecodeKernels {
    /// Owning device.
    public let device: CUDADevice
    /// Element type.
    public let dtype: KVDType
    /// Head dim `d`.
    public let headDim: Int
    /// GQA group `H / G`.
    public let group: Int
    /// KV heads `G`.
    public let kvHeads: Int
    /// Variant of the dense and score kernels.
    public var mainVariant: DecodeVariant { main.variant }
    /// Variant of the sparse (gather) kernel.
    public var gatherVariant: DecodeVariant { gather.variant }

    let main: AttentionKernelSet
    let gather: AttentionKernelSet
    let topk: CUDAModule
    let pool: KernelFunction
    let selectTopK: KernelFunction
    /// Kascade `pooled`: probabilities summed over every query head (`decode_pool_all`).
    let poolAll: KernelFunction
    /// `decode_pool_select` by (blocks per row, blocks per multiprocessor): 1 block per row always,
    /// clusters of 2, 4 and 8 on sm_90 and later.
    let poolSelect: [FusedKey: KernelFunction]
    /// Cluster sizes the fused path can launch, ascending.
    let clusterSizes: [Int]
    /// How `select` computes the top-k; `.automatic` unless a check or benchmark pins a path.
    public var selectPath: SelectPath = .automatic
    let combine: KernelFunction
    let fill: KernelFunction
    private var partO: DeviceBuffer?
    private var partML: DeviceBuffer?
    private var histogram: DeviceBuffer?
    private var pooledScratch: DeviceBuffer?

    /// How `select` computes the pooled probabilities and their top-k (the same indices either way).
    public enum SelectPath: Equatable, Sendable, CustomStringConvertible {
        /// Fused when a row fits the shared memory of a cluster of at most 8 blocks (launch:
        /// `automaticLaunch`), else split.
        case automatic
        /// `decode_pool` over the whole grid, then `decode_select` per row, through global memory.
        case split
        /// `decode_pool_select`: `blocks` (1, 2, 4 or 8; a cluster when > 1) blocks per row, each
        /// holding a slice of the row's pooled probabilities in shared memory; `resident` (1 or 2)
        /// blocks per multiprocessor (2: 32 registers, half the shared memory each).
        case fused(blocks: Int, resident: Int = 1)

        /// `automatic`, `split`, `fusedC` or `fusedCr2`.
        public var description: String {
            switch self {
            case .automatic: return "automatic"
            case .split: return "split"
            case .fused(let c, let r): return "fused\(c)" + (r == 1 ? "" : "r\(r)")
            }
        }
    }

    /// A fused kernel's launch shape: blocks per row, blocks per multiprocessor.
    struct FusedKey: Hashable {
        let blocks: Int
        let resident: Int
    }

    /// Compiles (or loads from the cache) the kernels; throws `.unsupported` for other head dims.
    public init(device: CUDADevice, compiler: KernelCompiler, dtype: KVDType, headDim: Int,
                queryHeads: Int, kvHeads: Int, main: DecodeVariant = DecodeVariant(),
                gather: DecodeVariant = DecodeVariant()) throws(CUDAError) {
        let group = try KernelShape.group(headDim: headDim, queryHeads: queryHeads, kvHeads: kvHeads, maxGroup: 16,
                                          what: "decode attention")
        self.device = device
        self.dtype = dtype
        self.headDim = headDim
        self.group = group
        self.kvHeads = kvHeads
        self.main = try AttentionKernelSet(device: device, compiler: compiler, dtype: dtype, headDim: headDim, group: group, variant: main)
        self.gather = main.description == gather.description ? self.main
            : try AttentionKernelSet(device: device, compiler: compiler, dtype: dtype, headDim: headDim, group: group, variant: gather)
        topk = try CUDAModule(device: device, cubin: try compiler.cubin(.decodeTopK, defines: ["GROUP": "\(group)"]),
                              overlapsLaunches: KernelSource.decodeTopK.overlapsLaunches)
        pool = try topk.function("decode_pool")
        selectTopK = try topk.function("decode_select")
        poolAll = try topk.function("decode_pool_all")
        clusterSizes = device.computeCapability.major >= 9 ? [1, 2, 4, 8] : [1]
        var fused: [FusedKey: KernelFunction] = [:]
        for c in clusterSizes {
            for r in [1, 2] {
                fused[FusedKey(blocks: c, resident: r)] = try topk.function("decode_pool_select" + (r == 1 ? "" : "_r2") + (c == 1 ? "" : "_x\(c)"))
            }
        }
        poolSelect = fused
        combine = try topk.function("decode_combine")
        fill = try topk.function("fill_random16")
    }

    /// Query heads `H`.
    public var queryHeads: Int { group * kvHeads }

    /// Splits the dense kernel uses for `batch` sequences of `length` keys.
    public func denseSplits(batch: Int, length: Int) throws(CUDAError) -> Int {
        try main.plan(main.denseSplit, values: true, rows: batch * kvHeads, count: length).splits
    }

    func workspace(batch: Int, splits: Int) throws(CUDAError) -> (o: UInt64, ml: UInt64) {
        let rows = batch * queryHeads * splits
        if (partO?.byteCount ?? 0) < rows * headDim * 4 { partO = try device.allocate(rows * headDim * 4) }
        if (partML?.byteCount ?? 0) < rows * 8 { partML = try device.allocate(rows * 8) }
        return (partO!.address, partML!.address)
    }

    func validate(_ p: DecodeInputs) throws(CUDAError) {
        guard p.batch > 0, p.length > 0, p.capacity >= p.length else {
            throw .badArgument("decode needs batch > 0 and 0 < N <= capacity (B=\(p.batch), N=\(p.length), cap=\(p.capacity))")
        }
        guard p.batch < 65536 else { throw .unsupported("batch \(p.batch)") }
        guard p.capacity < Int(Int32.max) else { throw .unsupported("context \(p.capacity)") }
    }

    func strides(_ p: DecodeInputs) -> (batch: KernelArg, head: KernelArg) {
        (.int64(Int64(kvHeads * p.capacity * headDim)), .int64(Int64(p.capacity * headDim)))
    }

    /// Merges `splits` partial results per (sequence, query head): `ws.o` `[B, H, splits, d]` fp32
    /// (read only when `withO`) and `ws.ml` `[B, H, splits]` (max, sum of exp) into `out [B, H, d]`
    /// fp32 and `lse [B, H]`, each optional.
    func combineLaunch(batch: Int, splits: Int, ws: (o: UInt64, ml: UInt64), withO: Bool,
                       out: UInt64?, lse: UInt64?, stream: CUDAStream) throws(CUDAError) {
        try combine.launch(grid: (queryHeads, batch, 1), block: 128, stream: stream,
                           [withO ? .pointer(ws.o) : .null, .pointer(ws.ml), .int32(Int32(splits)),
                            out.map { .pointer($0) } ?? .null, lse.map { .pointer($0) } ?? .null, .int32(Int32(headDim))])
    }

    /// Dense decode: `out [B, H, d]` fp32; `lse [B, H]` (optional) the log-sum-exp of the scaled scores;
    /// with `logits` (`[B, G, logitStride, H/G]` fp32) the scaled scores are written too.
    public func dense(_ p: DecodeInputs, out: UInt64, lse: UInt64? = nil, logits: UInt64? = nil, logitStride: Int = 0,
                      stream: CUDAStream) throws(CUDAError) {
        try validate(p)
        let fn = logits == nil ? main.denseSplit : main.denseLogitsSplit
        let (splits, chunk) = try main.plan(fn, values: true, rows: p.batch * kvHeads, count: p.length)
        let ws = try workspace(batch: p.batch, splits: splits)
        let (bs, hs) = strides(p)
        var args: [KernelArg] = [.pointer(p.q), .pointer(p.k), .pointer(p.v), bs, hs, .int32(Int32(p.length)),
                                 .int32(Int32(chunk)), .float(1 / Float(headDim).squareRoot()), .pointer(ws.o), .pointer(ws.ml),
                                 .int32(Int32(splits))]
        if let logits { args += [.pointer(logits), .int64(Int64(logitStride))] }
        try fn.launch(grid: (splits, kvHeads, p.batch), block: AttentionKernelSet.threads, sharedBytes: main.sharedBytes(values: true),
                      stream: stream, args)
        try combineLaunch(batch: p.batch, splits: splits, ws: ws, withO: true, out: out, lse: lse, stream: stream)
    }

    /// Scaled scores `logits [B, G, logitStride, H/G]` and their log-sum-exp `lse [B, H]`, values unread.
    public func scores(_ p: DecodeInputs, logits: UInt64, logitStride: Int, lse: UInt64, stream: CUDAStream) throws(CUDAError) {
        let partials = try scoresPartials(p, logits: logits, logitStride: logitStride, stream: stream)
        try combineLaunch(batch: p.batch, splits: partials.splits, ws: (0, partials.ml), withO: false, out: nil, lse: lse, stream: stream)
    }

    /// The anchor's scores and selection: ``scores(_:logits:logitStride:lse:stream:)`` then
    /// ``select(batch:length:logits:logitStride:lse:pooled:pooledStride:idx:idxStride:k:stream:)``
    /// (no pooled output), with one launch fewer where the selection is fused: it computes and writes
    /// `lse` from the scores' split partials itself.
    public func scoresSelect(_ p: DecodeInputs, logits: UInt64, logitStride: Int, lse: UInt64, idx: UInt64, idxStride: Int,
                             k: Int, stream: CUDAStream) throws(CUDAError) {
        let partials = try scoresPartials(p, logits: logits, logitStride: logitStride, stream: stream)
        try select(batch: p.batch, length: p.length, logits: logits, logitStride: logitStride, lse: lse, partials: partials,
                   pairs: false, pooled: nil, pooledStride: 0, idx: idx, idxStride: idxStride, k: k, stream: stream)
    }

    /// The scores kernel alone: `logits` and the (max, sum of exp) of each split in the workspace.
    private func scoresPartials(_ p: DecodeInputs, logits: UInt64, logitStride: Int,
                                stream: CUDAStream) throws(CUDAError) -> (ml: UInt64, splits: Int) {
        try validate(p)
        let (splits, chunk) = try main.plan(main.scoresSplit, values: false, rows: p.batch * kvHeads, count: p.length,
                                            waves: main.scoresWaves)
        let ws = try workspace(batch: p.batch, splits: splits)
        let (bs, hs) = strides(p)
        try main.scoresSplit.launch(grid: (splits, kvHeads, p.batch), block: AttentionKernelSet.threads,
                                    sharedBytes: main.sharedBytes(values: false),
                               stream: stream,
                               [.pointer(p.q), .pointer(p.k), bs, hs, .int32(Int32(p.length)), .int32(Int32(chunk)),
                                .float(1 / Float(headDim).squareRoot()), .pointer(ws.ml), .int32(Int32(splits)),
                                .pointer(logits), .int64(Int64(logitStride))])
        return (ws.ml, splits)
    }

    /// Keys per block (a multiple of 4) and dynamic shared bytes of `decode_pool_select` with
    /// `blocks` blocks per row of `length` keys and `resident` blocks per multiprocessor; nil when
    /// the slice does not fit: `maxShared` bytes (the per-block opt-in limit) for one block, for two
    /// half of it plus the 1 KiB each block reserves, less that reserve.
    static func fusedLayout(length: Int, blocks: Int, resident: Int = 1, maxShared: Int) -> (slice: Int, sharedBytes: Int)? {
        let slice = ((length + blocks - 1) / blocks + 3) / 4 * 4
        let bytes = slice * 4 + (blocks > 1 ? 2 : 1) * 2048 * 4 + 128 * 4
        let limit = resident == 1 ? maxShared : (maxShared + 1024) / resident - 1024
        return bytes <= limit ? (slice, bytes) : nil
    }

    /// Keys a block keeps at least when the automatic path spreads a row over more blocks.
    static let minimumSpreadSlice = 8192

    /// The automatic path's fused launch among cluster `sizes` (ascending), nil when no cluster
    /// holds a row (the split path). Several waves (the rows in their fewest blocks outnumber the
    /// multiprocessors): the fewest blocks per row that hold a row at two blocks per multiprocessor,
    /// else the fewest at one (since pass 1 reads the logits coalesced, clusters of 8 paired beat
    /// clusters of 4 alone at 128k on the H100: batch 8 0.118 against 0.124 ms, batch 64 0.640
    /// against 0.668 ms, bench/results/coalesced-select-flat; before, they were slower). One wave: the fewest blocks per row,
    /// or more while the clusters still fit one wave and each block keeps `minimumSpreadSlice` keys;
    /// two blocks per multiprocessor where that slice fits them. Two per multiprocessor: 32
    /// registers, half the loads in flight per thread, one block's loads overlapping the other's
    /// passes over shared memory; measured faster on the H100 wherever the slice fits (bench
    /// results under bench/results/fused-select). Without `pairs` a launch of one wave keeps one
    /// block per multiprocessor: launched to overlap the scores kernel's last wave, blocks that two
    /// may share are packed onto the multiprocessors that kernel frees first (bench/results/anchor-lse).
    static func automaticLaunch(rows: Int, length: Int, multiprocessors: Int, maxShared: Int, sizes: [Int],
                                pairs: Bool = true) -> FusedKey? {
        let fits = { (c: Int, r: Int) in fusedLayout(length: length, blocks: c, resident: r, maxShared: maxShared) != nil }
        guard let least = sizes.first(where: { fits($0, 1) }) else { return nil }
        if rows * least > multiprocessors {
            if let pair = sizes.first(where: { fits($0, 2) }) { return FusedKey(blocks: pair, resident: 2) }
            return FusedKey(blocks: least, resident: 1)
        }
        let spread = sizes.last { fits($0, 1) && rows * $0 <= multiprocessors && (length + $0 - 1) / $0 >= minimumSpreadSlice } ?? least
        let c = max(least, spread)
        return FusedKey(blocks: c, resident: pairs && fits(c, 2) ? 2 : 1)
    }

    /// The path `select` takes for `batch` sequences of `length` keys under `selectPath`: `.split`
    /// or `.fused(blocks:resident:)`; throws `.unsupported` when a pinned fused path does not fit.
    /// `pairs: false`: the route of ``scoresSelect(_:logits:logitStride:lse:idx:idxStride:k:stream:)``
    /// (see `automaticLaunch`).
    public func selectRoute(batch: Int, length: Int, pairs: Bool = true) throws(CUDAError) -> SelectPath {
        switch selectPath {
        case .split: return .split
        case .automatic:
            let key = DecodeKernels.automaticLaunch(rows: batch * kvHeads, length: length, multiprocessors: device.multiprocessors,
                                                    maxShared: device.maxSharedPerBlock, sizes: clusterSizes, pairs: pairs)
            return key.map { .fused(blocks: $0.blocks, resident: $0.resident) } ?? .split
        case .fused(let c, let r):
            guard poolSelect[FusedKey(blocks: c, resident: r)] != nil else {
                throw .unsupported("fused selection with \(c) blocks per row, \(r) per multiprocessor, on this device")
            }
            guard DecodeKernels.fusedLayout(length: length, blocks: c, resident: r, maxShared: device.maxSharedPerBlock) != nil else {
                throw .unsupported("fused selection of \(length) keys in \(c) blocks, \(r) per multiprocessor (\(device.maxSharedPerBlock) bytes of shared memory per block)")
            }
            return selectPath
        }
    }

    /// GQA-pooled probabilities of `logits [B, G, logitStride, H/G]` and `lse [B, H]`, and their
    /// top `k` positions per (sequence, KV head), ascending, into `idx [B, G, idxStride]` int32.
    /// The pooled probabilities go to `pooled [B, G, pooledStride]` when it is given (a scratch
    /// buffer is used otherwise). Every key above the k-th largest is kept, and of the keys equal
    /// to it the lowest positions first.
    public func select(batch: Int, length: Int, logits: UInt64, logitStride: Int, lse: UInt64,
                       pooled: UInt64?, pooledStride: Int, idx: UInt64, idxStride: Int, k: Int,
                       stream: CUDAStream) throws(CUDAError) {
        try select(batch: batch, length: length, logits: logits, logitStride: logitStride, lse: lse, partials: nil, pairs: true,
                   pooled: pooled, pooledStride: pooledStride, idx: idx, idxStride: idxStride, k: k, stream: stream)
    }

    /// `select`; with `partials` (the scores kernel's split (max, sum of exp) rows) `lse` is written
    /// from them first: by the fused selection itself, else by the combine kernel. `pairs` as in `selectRoute`.
    private func select(batch: Int, length: Int, logits: UInt64, logitStride: Int, lse: UInt64, partials: (ml: UInt64, splits: Int)?,
                        pairs: Bool, pooled: UInt64?, pooledStride: Int, idx: UInt64, idxStride: Int, k: Int,
                        stream: CUDAStream) throws(CUDAError) {
        try checkSelection(length: length, logitStride: logitStride, pooled: pooled, pooledStride: pooledStride, idxStride: idxStride, k: k)
        let rows = batch * kvHeads
        if case .fused(let c, let r) = try selectRoute(batch: batch, length: length, pairs: pairs), let fn = poolSelect[FusedKey(blocks: c, resident: r)],
           let layout = DecodeKernels.fusedLayout(length: length, blocks: c, resident: r, maxShared: device.maxSharedPerBlock) {
            try fn.launch(grid: (kvHeads * c, batch, 1), block: 1024, sharedBytes: layout.sharedBytes, stream: stream,
                          [.pointer(logits), .int64(Int64(logitStride)), .pointer(lse), partials.map { .pointer($0.ml) } ?? .null,
                           .int32(Int32(partials?.splits ?? 0)), pooled.map { .pointer($0) } ?? .null,
                           .int64(Int64(pooledStride)), .pointer(idx), .int64(Int64(idxStride)), .int32(Int32(length)),
                           .int32(Int32(k)), .int32(Int32(layout.slice))])
            return
        }
        if let partials {
            try combineLaunch(batch: batch, splits: partials.splits, ws: (0, partials.ml), withO: false, out: nil, lse: lse, stream: stream)
        }
        let (pooledRows, pooledRowStride) = try pooledRows(pooled, stride: pooledStride, rows: rows, length: length)
        let hist = try zeroedHistogram(rows: rows, stream: stream)
        let span = poolSpan(rows: rows, length: length)
        try pool.launch(grid: ((length + span - 1) / span, kvHeads, batch), block: 256, stream: stream,
                        [.pointer(logits), .int64(Int64(logitStride)), .pointer(lse), .pointer(pooledRows), .int64(Int64(pooledRowStride)),
                         .pointer(hist), .int32(Int32(length)), .int32(Int32(span / 1024))])
        try selectTopK.launch(grid: (kvHeads, batch, 1), block: 1024, stream: stream,
                              [.pointer(pooledRows), .int64(Int64(pooledRowStride)), .pointer(hist), .pointer(idx), .int64(Int64(idxStride)),
                               .int32(Int32(length)), .int32(Int32(k))])
    }

    /// Kascade's `pooled` variant: the probabilities summed over all `H` query heads from `logits
    /// [B, G, logitStride, H/G]` and `lse [B, H]` (into `pooled [B, pooledStride]` when given), and
    /// their top `k` positions per sequence, ascending, into `idx [B, idxStride]` int32: one index
    /// row shared by every KV head. Ties as in ``select(batch:length:logits:logitStride:lse:pooled:pooledStride:idx:idxStride:k:stream:)``.
    public func selectPooled(batch: Int, length: Int, logits: UInt64, logitStride: Int, lse: UInt64,
                             pooled: UInt64?, pooledStride: Int, idx: UInt64, idxStride: Int, k: Int,
                             stream: CUDAStream) throws(CUDAError) {
        try checkSelection(length: length, logitStride: logitStride, pooled: pooled, pooledStride: pooledStride, idxStride: idxStride, k: k)
        let (pooledRows, pooledRowStride) = try pooledRows(pooled, stride: pooledStride, rows: batch, length: length)
        let hist = try zeroedHistogram(rows: batch, stream: stream)
        let span = poolSpan(rows: batch, length: length)
        try poolAll.launch(grid: ((length + span - 1) / span, 1, batch), block: 256, stream: stream,
                           [.pointer(logits), .int64(Int64(logitStride)), .pointer(lse), .int32(Int32(kvHeads)), .pointer(pooledRows),
                            .int64(Int64(pooledRowStride)), .pointer(hist), .int32(Int32(length)), .int32(Int32(span / 1024))])
        try selectTopK.launch(grid: (1, batch, 1), block: 1024, stream: stream,
                              [.pointer(pooledRows), .int64(Int64(pooledRowStride)), .pointer(hist), .pointer(idx), .int64(Int64(idxStride)),
                               .int32(Int32(length)), .int32(Int32(k))])
    }

    private func checkSelection(length: Int, logitStride: Int, pooled: UInt64?, pooledStride: Int, idxStride: Int,
                                k: Int) throws(CUDAError) {
        guard k > 0, k <= length, idxStride >= k else { throw .badArgument("top-k needs 0 < k <= N and room for k (k=\(k), N=\(length))") }
        guard logitStride % 4 == 0, logitStride >= length, pooled == nil || (pooledStride % 4 == 0 && pooledStride >= length) else {
            throw .badArgument("score rows need strides >= N and a multiple of 4 (\(logitStride), \(pooledStride))")
        }
    }

    /// `pooled` with its row stride, or the scratch rows (`rows` of `length` rounded up to 4) without it.
    private func pooledRows(_ pooled: UInt64?, stride: Int, rows: Int, length: Int) throws(CUDAError) -> (UInt64, Int) {
        if let pooled { return (pooled, stride) }
        let rowStride = (length + 3) / 4 * 4
        if (pooledScratch?.byteCount ?? 0) < rows * rowStride * 4 {
            pooledScratch = nil
            pooledScratch = try device.allocate(rows * rowStride * 4)
        }
        return (pooledScratch!.address, rowStride)
    }

    /// The selection's histogram rows `[rows, 2048]` int32: zeroed once; decode_select zeroes each row
    /// again after reading it, so they are zero between calls.
    private func zeroedHistogram(rows: Int, stream: CUDAStream) throws(CUDAError) -> UInt64 {
        if (histogram?.byteCount ?? 0) < rows * 2048 * 4 {
            histogram = nil
            let h = try device.allocate(rows * 2048 * 4)
            try stream.memset(h.address, value: 0, bytes: rows * 2048 * 4)
            histogram = h
        }
        return histogram!.address
    }

    /// Keys per pooling block for `rows` rows of `length`: 1024 x iters, about four blocks per
    /// multiprocessor over the grid, at most 8 x 1024.
    private func poolSpan(rows: Int, length: Int) -> Int {
        let perRow = max(1, (4 * device.multiprocessors + rows - 1) / rows)
        return 1024 * min(8, max(1, (length + 1024 * perRow - 1) / (1024 * perRow)))
    }

    /// Attention of each query head over `count` positions of its KV head's index row:
    /// row `headMap[g]` of `idx [B, idxHeads, idxStride]` (identity map when nil; row 0 for every head
    /// when `idxHeads == 1`). `out [B, H, d]` fp32.
    public func sparse(_ p: DecodeInputs, idx: UInt64, idxStride: Int, idxHeads: Int, count: Int, headMap: UInt64?,
                       out: UInt64, lse: UInt64? = nil, stream: CUDAStream) throws(CUDAError) {
        try validate(p)
        guard count > 0, count <= idxStride else { throw .badArgument("sparse attention over \(count) of \(idxStride) indices") }
        let (splits, chunk) = try gather.plan(gather.sparseSplit, values: true, rows: p.batch * kvHeads, count: count)
        let ws = try workspace(batch: p.batch, splits: splits)
        let (bs, hs) = strides(p)
        try gather.sparseSplit.launch(grid: (splits, kvHeads, p.batch), block: AttentionKernelSet.threads,
                                      sharedBytes: gather.sharedBytes(values: true),
                               stream: stream,
                               [.pointer(p.q), .pointer(p.k), .pointer(p.v), bs, hs, .pointer(idx),
                                .int64(Int64(idxHeads * idxStride)), .int64(idxHeads == 1 ? 0 : Int64(idxStride)),
                                headMap.map { .pointer($0) } ?? .null,
                                .int32(Int32(count)), .int32(Int32(chunk)), .float(1 / Float(headDim).squareRoot()),
                                .pointer(ws.o), .pointer(ws.ml), .int32(Int32(splits))])
        try combineLaunch(batch: p.batch, splits: splits, ws: ws, withO: true, out: out, lse: lse, stream: stream)
    }

    /// Fills `count` 16-bit elements at `address` with seeded pseudo-random values in [-amp, amp).
    public func fillRandom(_ address: UInt64, count: Int, seed: UInt64, amp: Float, stream: CUDAStream) throws(CUDAError) {
        let blocks = min(max(1, (count + 255) / 256), device.multiprocessors * 16)
        try fill.launch(grid: (blocks, 1, 1), block: 256, stream: stream,
                        [.pointer(address), .int64(Int64(count)), .int64(Int64(bitPattern: seed)), .float(amp),
                         .int32(dtype == .bf16 ? 1 : 0)])
    }
}
