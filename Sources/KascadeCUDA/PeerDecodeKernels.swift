import KascadeCore

/// Decode kernels of Quest (Tang et al., arXiv 2406.10774), Twilight (Lin et al., arXiv 2502.02770)
/// and vAttention (Desai et al., arXiv 2510.05688) for one (dtype, head dim, group size), and their
/// host-side launchers.
///
/// Each method marks, per (sequence, KV head), the keys every query head of the group reads in a
/// mask of 32-bit words (bit `hh` per query head; bit `16 + hh` for vAttention's sampled keys), on the
/// GPU with no host copy; one split-KV kernel then reads each marked key and value row once for the
/// whole group, and a combine step merges the splits. Outputs are `[B, H, d]` fp32.
///
/// Quest and Twilight compact the group's selected pages into an ascending page list per (sequence,
/// KV head) first; their attention (and Twilight's estimate) visits only the listed pages, dealt out
/// evenly to the splits, so the work follows the selected size rather than the context length.
public final class PeerDecodeKernels {
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
    /// Query heads `H`.
    public var queryHeads: Int { group * kvHeads }
    /// Positions per Quest page.
    public static let pageSize = 16
    /// Split-KV blocks aimed for, in resident-block multiples.
    public var waves = 8
    /// Quest and Twilight attend over the compacted page lists (default); false: the earlier
    /// position-split attention that scans the whole mask (kept for before/after timings).
    public var listDriven = true
    /// Quest's selection (and Twilight's candidate pages) in one kernel per group that writes the
    /// mask row and the page list (`quest_select_list`) where a group's scores fit its registers;
    /// false: page scores, memset, per-head `peer_select` and `peer_compact_pages` (kept for
    /// before/after timings and for larger shapes).
    public var fusedSelection = true
    /// Quest attends over its page list on tensor cores (`decode_page_list_split`) after the fused
    /// selection; false: the CUDA-core `peer_attend_page_list`.
    public var tensorCoreAttention = true
    /// Twilight's estimate on tensor cores (`twilight_estimate`); false: on CUDA cores
    /// (`twilight_estimate_fma`, its products summed in dimension order, as the CPU sums them).
    public var tensorCoreEstimate = true
    /// Resident-block waves the tensor-core page-list attention aims for.
    public var pageListWaves = 3
    /// Twilight's steps, in order, for the bench's step timings.
    enum TwilightStep { case selection, estimate, topP }
    /// Where `twilight` stops when set (the bench times its steps this way); nil: the whole method.
    var twilightStopsAfter: TwilightStep?

    let module: CUDAModule
    let pagesFn, pageScoresFn, selectFn, quantizeFn, estimateFn, estimateFmaFn, topPFn, sampleFn: KernelFunction
    let attendPagesFn, attendTokensFn, combineFn: KernelFunction
    let compactFn, attendPageListFn, attendTokenListFn, peakedKeysFn, peakedQueriesFn, selectListFn: KernelFunction
    private var scorer: DecodeKernels?
    /// The tensor-core build (`mma2x4`) whose `decode_page_list_split` Quest attends with.
    private var pageAttention: AttentionKernelSet?
    private let compiler: KernelCompiler
    private var buffers: [String: DeviceBuffer] = [:]
    private var slots: Int?

    /// Threads of the attention kernel.
    static let attendThreads = 128
    /// Threads of `twilight_estimate` (`EST_THREADS`) and the listed positions each scores (`EST_TOKENS`).
    static let estimateThreads = 256, estimateTokens = 4
    /// Positions the attention kernel compacts at a time.
    static let segment = 2048
    /// Most splits per head (the combine step takes twice this for vAttention's two passes).
    static let maxSplits = 1024

    /// Compiles (or loads from the cache) the kernels; throws `.unsupported` for other head dims or groups.
    public init(device: CUDADevice, compiler: KernelCompiler, dtype: KVDType, headDim: Int,
                queryHeads: Int, kvHeads: Int) throws(CUDAError) {
        let group = try KernelShape.group(headDim: headDim, queryHeads: queryHeads, kvHeads: kvHeads, maxGroup: 16,
                                          what: "Quest, Twilight and vAttention decode")
        self.device = device
        self.compiler = compiler
        self.dtype = dtype
        self.headDim = headDim
        self.group = group
        self.kvHeads = kvHeads
        module = try CUDAModule(device: device, cubin: try compiler.cubin(.decodePeers, defines: [
            "KV_BF16": dtype == .bf16 ? "1" : "0", "HEAD_DIM": "\(headDim)", "GROUP": "\(group)"]),
            overlapsLaunches: KernelSource.decodePeers.overlapsLaunches)
        pagesFn = try module.function("quest_pages")
        pageScoresFn = try module.function("quest_page_scores")
        selectFn = try module.function("peer_select")
        quantizeFn = try module.function("twilight_quantize")
        estimateFn = try module.function("twilight_estimate")
        estimateFmaFn = try module.function("twilight_estimate_fma")
        topPFn = try module.function("twilight_top_p")
        // Launched to overlap the estimate, its few blocks (group x KV heads x batch) were placed on
        // the multiprocessors the estimate freed first rather than spread out: Twilight took 0.228 ms
        // against 0.208 with this kernel alone launched in order (H100, batch 8, 32k, peaked;
        // bench/results/launch-overlap-kernels).
        topPFn.overlapsLaunch = false
        sampleFn = try module.function("vatt_sample")
        attendPagesFn = try module.function("peer_attend_pages")
        attendTokensFn = try module.function("peer_attend_tokens")
        combineFn = try module.function("peer_combine")
        compactFn = try module.function("peer_compact_pages")
        attendPageListFn = try module.function("peer_attend_page_list")
        attendTokenListFn = try module.function("peer_attend_token_list")
        peakedKeysFn = try module.function("peaked_keys")
        peakedQueriesFn = try module.function("peaked_queries")
        selectListFn = try module.function("quest_select_list")
    }

    // MARK: - Workspace

    /// A device buffer of at least `bytes`, kept between calls under `key`.
    func buffer(_ key: String, bytes: Int) throws(CUDAError) -> DeviceBuffer {
        if let b = buffers[key], b.byteCount >= bytes { return b }
        buffers[key] = nil
        let b = try device.allocate(max(bytes, 4))
        buffers[key] = b
        return b
    }

    /// The buffer kept under `key`, if any (the check reads masks back through it).
    func existing(_ key: String) -> DeviceBuffer? { buffers[key] }

    private func validate(_ p: DecodeInputs) throws(CUDAError) {
        guard p.batch > 0, p.length > 0, p.capacity >= p.length else {
            throw .badArgument("decode needs batch > 0 and 0 < N <= capacity (B=\(p.batch), N=\(p.length), cap=\(p.capacity))")
        }
        guard p.batch < 65536 else { throw .unsupported("batch \(p.batch)") }
        guard p.capacity < Int(Int32.max) / 2 else { throw .unsupported("context \(p.capacity)") }
    }

    private func strides(_ p: DecodeInputs) -> (KernelArg, KernelArg) {
        (.int64(Int64(kvHeads * p.capacity * headDim)), .int64(Int64(p.capacity * headDim)))
    }

    /// Dynamic shared memory of the attention kernel, bytes.
    var attendSharedBytes: Int {
        let floats = group * headDim + group * 32 + 32
        let base = floats * 4 + PeerDecodeKernels.segment * 8 + 36 * 4 + 16
        return base + 3 * 32 * (2 * headDim + 16) * 2
    }

    /// Splits and positions per split (a multiple of 64) for `rows` (sequence, KV head) rows of `n` positions.
    func plan(rows: Int, length n: Int) throws(CUDAError) -> (splits: Int, chunk: Int) {
        if slots == nil {
            slots = max(1, try attendTokensFn.occupancy(threads: PeerDecodeKernels.attendThreads, sharedBytes: attendSharedBytes))
                * device.multiprocessors
        }
        let want = max(1, (waves * slots! + rows - 1) / max(rows, 1))
        var chunk = (n + want - 1) / want
        chunk = max(64, (chunk + 63) / 64 * 64)
        var splits = (n + chunk - 1) / chunk
        if splits > PeerDecodeKernels.maxSplits {
            chunk = ((n + PeerDecodeKernels.maxSplits - 1) / PeerDecodeKernels.maxSplits + 63) / 64 * 64
            splits = (n + chunk - 1) / chunk
        }
        return (splits, chunk)
    }

    private func attend(_ p: DecodeInputs, paged: Bool, mask: UInt64, maskStride: Int, shift: Int, bias: UInt64?,
                        plan: (splits: Int, chunk: Int), splitOffset: Int, totalSplits: Int,
                        ws: (o: UInt64, ml: UInt64), stream: CUDAStream) throws(CUDAError) {
        let (bs, hs) = strides(p)
        try (paged ? attendPagesFn : attendTokensFn).launch(
            grid: (plan.splits, kvHeads, p.batch), block: PeerDecodeKernels.attendThreads, sharedBytes: attendSharedBytes, stream: stream,
            [.pointer(p.q), .pointer(p.k), .pointer(p.v), bs, hs, .pointer(mask), .int64(Int64(maskStride)), .int32(Int32(shift)),
             bias.map { .pointer($0) } ?? .null, .int32(Int32(p.length)), .int32(Int32(plan.chunk)),
             .float(1 / Float(headDim).squareRoot()), .pointer(ws.o), .pointer(ws.ml), .int32(Int32(splitOffset)),
             .int32(Int32(totalSplits))])
    }

    /// Splits of the list-driven attention: about three resident waves over `rows` rows, at most one
    /// per `minPer` of the `maxUnits` pages a row can list.
    func listSplits(rows: Int, maxUnits: Int, minPer: Int) throws(CUDAError) -> Int {
        _ = try plan(rows: rows, length: 64)
        return PeerDecodeKernels.listSplits(rows: rows, maxUnits: maxUnits, minPer: minPer, slots: slots!, waves: 3)
    }

    /// About `waves` times `slots` resident blocks over `rows` rows, at most one split per `minPer` of
    /// the `maxUnits` pages a row can list, and at most `maxSplits`.
    static func listSplits(rows: Int, maxUnits: Int, minPer: Int, slots: Int, waves: Int) -> Int {
        let byWaves = (waves * slots + rows - 1) / max(rows, 1)
        return max(1, min(maxSplits, byWaves, (maxUnits + minPer - 1) / minPer))
    }

    /// Attention over the listed pages: `tokens` reads per-position bits from `mask [B, G, maskStride]`,
    /// else one word per page.
    private func attendList(_ p: DecodeInputs, tokens: Bool, mask: UInt64, maskStride: Int, list: PageList,
                            splits: Int, minPer: Int, ws: (o: UInt64, ml: UInt64), stream: CUDAStream) throws(CUDAError) {
        let (bs, hs) = strides(p)
        try (tokens ? attendTokenListFn : attendPageListFn).launch(
            grid: (splits, kvHeads, p.batch), block: PeerDecodeKernels.attendThreads, sharedBytes: attendSharedBytes, stream: stream,
            [.pointer(p.q), .pointer(p.k), .pointer(p.v), bs, hs, .pointer(mask), .int64(Int64(maskStride)), .int32(Int32(p.length)),
             .float(1 / Float(headDim).squareRoot()), .pointer(ws.o), .pointer(ws.ml), .int32(Int32(splits)),
             .pointer(list.pages), .pointer(list.count), .int64(Int64(list.stride)), .int32(Int32(minPer))])
    }

    /// The pages any head of each group selected in the page mask `[B, G, pages]`, as ascending lists
    /// `[B, G, pages]` int32 with counts `[B, G]` int32.
    private func compactPages(batch: Int, mask: UInt64, pages: Int, stream: CUDAStream) throws(CUDAError) -> PageList {
        let list = try buffer("pageList", bytes: batch * kvHeads * pages * 4)
        let count = try buffer("pageCount", bytes: batch * kvHeads * 4)
        try compactFn.launch(grid: (kvHeads, batch, 1), block: 1024, stream: stream,
                             [.pointer(mask), .int64(Int64(pages)), .int32(Int32(pages)), .pointer(list.address),
                              .int64(Int64(pages)), .pointer(count.address)])
        return PageList(pages: list.address, bits: nil, count: count.address, stride: pages)
    }

    private func partials(batch: Int, splits: Int) throws(CUDAError) -> (o: UInt64, ml: UInt64) {
        let rows = batch * queryHeads * splits
        return (try buffer("partO", bytes: rows * headDim * 4).address, try buffer("partML", bytes: rows * 8).address)
    }

    private func combine(batch: Int, splits: Int, ws: (o: UInt64, ml: UInt64), out: UInt64, stream: CUDAStream) throws(CUDAError) {
        try combineFn.launch(grid: (queryHeads, batch, 1), block: min(headDim, 128), stream: stream,
                             [.pointer(ws.o), .pointer(ws.ml), .int32(Int32(splits)), .pointer(out)])
    }

    /// Launches the top-k selection into mask bits (see `peer_select`).
    private func select(batch: Int, scores: UInt64, sB: Int, sG: Int, sHH: Int, elem: Int, lo: Int, count: Int, k: Int,
                        always: (lo: Int, hi: Int, end: Int), mask: UInt64, maskStride: Int, stream: CUDAStream) throws(CUDAError) {
        try selectFn.launch(grid: (group, kvHeads, batch), block: 1024, stream: stream,
                            [.pointer(scores), .int64(Int64(sB)), .int64(Int64(sG)), .int64(Int64(sHH)), .int32(Int32(elem)),
                             .int32(Int32(lo)), .int32(Int32(count)), .int32(Int32(k)), .int32(Int32(always.lo)),
                             .int32(Int32(always.hi)), .int32(Int32(always.end)), .pointer(mask), .int64(Int64(maskStride))])
    }

    // MARK: - Quest page bounds and the 4-bit key copy

    /// Page bounds of pages `fromPage ..< ceil(N / 16)` from the keys.
    private func pages(_ p: DecodeInputs, pages view: QuestPagesView, fromPage: Int, stream: CUDAStream) throws(CUDAError) {
        try validate(p)
        let total = (p.length + 15) / 16
        guard view.pageCapacity >= total else { throw .badArgument("page table of \(view.pageCapacity) pages for \(p.length) keys") }
        let (bs, hs) = strides(p)
        try pagesFn.launch(grid: (total - fromPage, kvHeads, p.batch), block: headDim, stream: stream,
                           [.pointer(p.k), bs, hs, .pointer(view.min), .pointer(view.max), .int64(Int64(view.pageCapacity)),
                            .int32(Int32(p.length)), .int32(Int32(fromPage))])
    }

    /// Quest's page bounds of all `N` keys, from scratch.
    public func buildPages(_ p: DecodeInputs, pages view: QuestPagesView, stream: CUDAStream) throws(CUDAError) {
        try pages(p, pages: view, fromPage: 0, stream: stream)
    }

    /// Brings the page bounds up to date after positions `oldLength ..< N` were appended (recomputes the
    /// pages they touch).
    public func appendPages(_ p: DecodeInputs, pages view: QuestPagesView, from oldLength: Int, stream: CUDAStream) throws(CUDAError) {
        guard oldLength >= 0, oldLength < p.length else { throw .badArgument("append from \(oldLength) to \(p.length)") }
        try pages(p, pages: view, fromPage: oldLength / 16, stream: stream)
    }

    /// Quantises positions `from ..< N` into the 4-bit copy (from 0: a build; else an append).
    public func quantize(_ p: DecodeInputs, keys: Int4KeysView, from: Int = 0, stream: CUDAStream) throws(CUDAError) {
        try validate(p)
        guard from >= 0, from < p.length, keys.capacity >= p.length else {
            throw .badArgument("quantise \(from) ..< \(p.length) into a copy of \(keys.capacity) positions")
        }
        let (bs, hs) = strides(p)
        try quantizeFn.launch(grid: ((p.length - from + 3) / 4, kvHeads, p.batch), block: 128, stream: stream,
                              [.pointer(p.k), bs, hs, .pointer(keys.codes), .pointer(keys.scales), .pointer(keys.zeros),
                               .int64(Int64(keys.capacity)), .int32(Int32(from)), .int32(Int32(p.length))])
    }

    /// A page list: ascending pages per (sequence, KV head) `[B, G, stride]` int32, their head bits
    /// (`bits`, from the fused selection only) and counts `[B, G]` int32.
    struct PageList {
        let pages: UInt64
        let bits: UInt64?
        let count: UInt64
        let stride: Int
    }

    /// Threads of `quest_select_list` (`QS_THREADS`), and the units each holds at most (`QS_MAXE`).
    static let selectListThreads = 1024, selectListUnits = 32
    /// Pages of `quest_page_scores` per block (`SCORE_PAGES`).
    static let pageScorePages = 64

    /// Units per thread of `quest_select_list` for `full` pages (a multiple of 4), or nil where the
    /// shape does not fit it (too many pages per thread, or a mask row past the shared memory).
    func selectListSegment(full: Int, pages: Int) -> Int? {
        let team = (PeerDecodeKernels.selectListThreads / 32 / group) * 32
        let seg = max(4, ((full + team - 1) / team + 3) / 4 * 4)
        let shared = pages * 4 + group * 2 * 256 * 4 + 1024
        guard seg <= PeerDecodeKernels.selectListUnits, shared <= device.maxSharedPerBlock else { return nil }
        return seg
    }

    /// Quest's page scores of the full pages (`pages - 1`) into `[B, H, stride]` fp32; the stride
    /// leaves 4-unit loads past the last page inside the row.
    private func pageScores(_ p: DecodeInputs, pages view: QuestPagesView, full: Int, stream: CUDAStream) throws(CUDAError) -> (UInt64, Int) {
        let stride = (full + 3) / 4 * 4 + 4
        let scores = try buffer("pageScores", bytes: p.batch * queryHeads * stride * 4)
        // Shared memory (SCORE_SHARED): the block's bounds rows (padded by 16 bytes) and q split by sign.
        let per = PeerDecodeKernels.pageScorePages
        let shared = 2 * per * (2 * headDim + 16) + 2 * group * headDim * 4
        try pageScoresFn.launch(grid: (max(1, (full + per - 1) / per), kvHeads, p.batch), block: 128, sharedBytes: shared, stream: stream,
                                [.pointer(p.q), .pointer(view.min), .pointer(view.max), .int64(Int64(view.pageCapacity)),
                                 .int32(Int32(full)), .pointer(scores.address), .int64(Int64(stride))])
        return (scores.address, stride)
    }

    /// Each head's top `keep - 1` full pages by score plus the current page (all pages when `keep`
    /// covers them), as bits of the page mask `[B, G, pages]`, and the group's pages as a list.
    private func selectPages(_ p: DecodeInputs, pages view: QuestPagesView, keep: Int,
                             stream: CUDAStream) throws(CUDAError) -> (mask: UInt64, list: PageList) {
        let pages = (p.length + 15) / 16, full = pages - 1
        let mask = try buffer("pageMask", bytes: p.batch * kvHeads * pages * 4)
        let k = keep >= pages ? full : keep - 1
        // Scores only where some pages compete (else the kernels read none: any address serves).
        let scores = k > 0 && k < full ? try pageScores(p, pages: view, full: full, stream: stream) : (mask.address, 0)
        if fusedSelection, let seg = selectListSegment(full: full, pages: pages) {
            let stride = (pages + 3) / 4 * 4
            let list = try buffer("pageList", bytes: p.batch * kvHeads * stride * 4)
            let bits = try buffer("pageBits", bytes: p.batch * kvHeads * stride * 4)
            let count = try buffer("pageCount", bytes: p.batch * kvHeads * 4)
            try selectListFn.launch(grid: (kvHeads, p.batch, 1), block: PeerDecodeKernels.selectListThreads,
                                    sharedBytes: pages * 4, stream: stream,
                                    [.pointer(scores.0), .int64(Int64(scores.1)), .int32(Int32(full)), .int32(Int32(pages)),
                                     .int32(Int32(k)), .int32(Int32(seg)), .pointer(mask.address), .int64(Int64(pages)),
                                     .pointer(list.address), .pointer(bits.address), .int64(Int64(stride)), .pointer(count.address)])
            return (mask.address, PageList(pages: list.address, bits: bits.address, count: count.address, stride: stride))
        }
        try stream.memset(mask.address, value: 0, bytes: p.batch * kvHeads * pages * 4)
        try select(batch: p.batch, scores: scores.0, sB: queryHeads * scores.1, sG: group * scores.1, sHH: scores.1, elem: 1,
                   lo: 0, count: full, k: k, always: (0, full, pages), mask: mask.address, maskStride: pages, stream: stream)
        return (mask.address, try compactPages(batch: p.batch, mask: mask.address, pages: pages, stream: stream))
    }

    /// Quest's selection alone, for the bench's breakdown: the page scores (`scoresOnly`), or the
    /// whole selection into the mask and the page list.
    func questSelection(_ p: DecodeInputs, pages view: QuestPagesView, keep: Int, scoresOnly: Bool,
                        stream: CUDAStream) throws(CUDAError) {
        try validate(p)
        if scoresOnly { _ = try pageScores(p, pages: view, full: (p.length + 15) / 16 - 1, stream: stream) }
        else { _ = try selectPages(p, pages: view, keep: keep, stream: stream) }
    }

    // MARK: - Methods

    /// Quest (SPEC 2.3): each query head attends exactly over its top `keep` pages (the current page
    /// always among them; `keep` from `QuestAttention.pagesToKeep`). `out [B, H, d]` fp32.
    public func quest(_ p: DecodeInputs, pages view: QuestPagesView, keep: Int, out: UInt64, stream: CUDAStream) throws(CUDAError) {
        try validate(p)
        guard keep >= 1 else { throw .badArgument("Quest keeps at least one page, got \(keep)") }
        let pages = (p.length + 15) / 16
        let (mask, list) = try selectPages(p, pages: view, keep: keep, stream: stream)
        if tensorCoreAttention, listDriven, let bits = list.bits {
            try attendPagesOnTensorCores(p, list: list, bits: bits, keep: keep, out: out, stream: stream)
            return
        }
        if !listDriven {
            let plan = try plan(rows: p.batch * kvHeads, length: p.length)
            let ws = try partials(batch: p.batch, splits: plan.splits)
            try attend(p, paged: true, mask: mask, maskStride: pages, shift: 0, bias: nil, plan: plan,
                       splitOffset: 0, totalSplits: plan.splits, ws: ws, stream: stream)
            try combine(batch: p.batch, splits: plan.splits, ws: ws, out: out, stream: stream)
            return
        }
        let minPer = 4
        let splits = try listSplits(rows: p.batch * kvHeads, maxUnits: min(pages, keep * group), minPer: minPer)
        let ws = try partials(batch: p.batch, splits: splits)
        try attendList(p, tokens: false, mask: mask, maskStride: pages, list: list, splits: splits, minPer: minPer, ws: ws, stream: stream)
        try combine(batch: p.batch, splits: splits, ws: ws, out: out, stream: stream)
    }

    /// Quest's attention over the page list on tensor cores: runs of 4 pages or more per split,
    /// about `pageListWaves` resident waves.
    private func attendPagesOnTensorCores(_ p: DecodeInputs, list: PageList, bits: UInt64, keep: Int, out: UInt64,
                                          stream: CUDAStream) throws(CUDAError) {
        if pageAttention == nil {
            pageAttention = try AttentionKernelSet(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                                                   group: group, variant: DecodeVariant())
        }
        let set = pageAttention!
        guard let fn = set.pageListSplit else { throw .unsupported("page-list attention needs the tensor-core build") }
        let pages = (p.length + 15) / 16, minPer = 4
        let shared = set.pageListSharedBytes
        let splits = PeerDecodeKernels.listSplits(rows: p.batch * kvHeads, maxUnits: min(pages, keep * group), minPer: minPer,
                                                  slots: try set.residentBlocks(fn, sharedBytes: shared), waves: pageListWaves)
        let ws = try partials(batch: p.batch, splits: splits)
        let (bs, hs) = strides(p)
        try fn.launch(grid: (splits, kvHeads, p.batch), block: AttentionKernelSet.threads, sharedBytes: shared, stream: stream,
                      [.pointer(p.q), .pointer(p.k), .pointer(p.v), bs, hs, .pointer(list.pages), .pointer(bits),
                       .pointer(list.count), .int64(Int64(list.stride)), .int32(Int32(minPer)), .int32(Int32(p.length)),
                       .float(1 / Float(headDim).squareRoot()), .pointer(ws.o), .pointer(ws.ml), .int32(Int32(splits))])
        try combine(batch: p.batch, splits: splits, ws: ws, out: out, stream: stream)
    }

    /// Twilight (SPEC 2.4): Quest candidates (`keep` pages per head, from the base budget `B0`), the
    /// 4-bit estimate of their scores, softmax over them, the top-`topP` set by bisection on a threshold,
    /// exact attention over it. `kept [B, H]` int32 gets each head's kept size. `out [B, H, d]` fp32.
    public func twilight(_ p: DecodeInputs, pages view: QuestPagesView, keys: Int4KeysView, keep: Int, topP: Float,
                         out: UInt64, kept: UInt64, stream: CUDAStream) throws(CUDAError) {
        try validate(p)
        guard keep >= 1, topP > 0, topP <= 1 else { throw .badArgument("Twilight needs keep >= 1 page and top-p in (0, 1] (\(keep), \(topP))") }
        guard keys.capacity >= p.length else { throw .badArgument("4-bit copy of \(keys.capacity) positions for \(p.length) keys") }
        let n = p.length, pages = (n + 15) / 16
        let keepPages = min(keep, pages)
        let (pageMask, list) = try selectPages(p, pages: view, keep: keepPages, stream: stream)
        if twilightStopsAfter == .selection { return }
        let maxUnits = min(pages, keepPages * group)
        if topP >= 1 {
            let splits = try listSplits(rows: p.batch * kvHeads, maxUnits: maxUnits, minPer: 4)
            let ws = try partials(batch: p.batch, splits: splits)
            try attendList(p, tokens: false, mask: pageMask, maskStride: pages, list: list, splits: splits, minPer: 4, ws: ws, stream: stream)
            try combine(batch: p.batch, splits: splits, ws: ws, out: out, stream: stream)
            return
        }
        let smem = keepPages * 17 * 4
        guard smem <= device.maxSharedPerBlock - 1024 else {
            throw .unsupported("Twilight's pruning keeps \(keepPages * 16) candidates in shared memory (at most \((device.maxSharedPerBlock - 1024) / 68 * 16))")
        }
        let estStride = (n + 3) / 4 * 4
        let est = try buffer("estimate", bytes: p.batch * queryHeads * estStride * 4)
        // Kept bits are valid on the listed pages only (the estimate clears them there).
        let keptMask = try buffer("keptMask", bytes: p.batch * kvHeads * n * 4)
        if !listDriven { try stream.memset(keptMask.address, value: 0, bytes: p.batch * kvHeads * n * 4) }
        let perBlock = PeerDecodeKernels.estimateThreads * PeerDecodeKernels.estimateTokens
        try (tensorCoreEstimate ? estimateFn : estimateFmaFn).launch(
                              grid: ((maxUnits * 16 + perBlock - 1) / perBlock, kvHeads, p.batch), block: PeerDecodeKernels.estimateThreads,
                              stream: stream,
                              [.pointer(p.q), .pointer(keys.codes), .pointer(keys.scales), .pointer(keys.zeros),
                               .int64(Int64(keys.capacity)), .pointer(pageMask), .int64(Int64(pages)), .int32(Int32(n)),
                               .float(1 / Float(headDim).squareRoot()), .pointer(est.address), .int64(Int64(estStride)),
                               .pointer(list.pages), .pointer(list.count), .int64(Int64(list.stride)),
                               .pointer(keptMask.address), .int64(Int64(n))])
        if twilightStopsAfter == .estimate { return }
        try topPFn.launch(grid: (group, kvHeads, p.batch), block: 512, sharedBytes: smem, stream: stream,
                          [.pointer(est.address), .int64(Int64(estStride)), .pointer(pageMask), .int64(Int64(pages)),
                           .int32(Int32(pages)), .int32(Int32(keepPages)), .int32(Int32(n)), .float(topP),
                           .pointer(keptMask.address), .int64(Int64(n)), .pointer(kept)])
        if twilightStopsAfter == .topP { return }
        if !listDriven {
            let plan = try plan(rows: p.batch * kvHeads, length: n)
            let ws = try partials(batch: p.batch, splits: plan.splits)
            try attend(p, paged: false, mask: keptMask.address, maskStride: n, shift: 0, bias: nil, plan: plan,
                       splitOffset: 0, totalSplits: plan.splits, ws: ws, stream: stream)
            try combine(batch: p.batch, splits: plan.splits, ws: ws, out: out, stream: stream)
            return
        }
        let minPer = 32
        let splits = try listSplits(rows: p.batch * kvHeads, maxUnits: maxUnits, minPer: minPer)
        let ws = try partials(batch: p.batch, splits: splits)
        try attendList(p, tokens: true, mask: keptMask.address, maskStride: n, list: list, splits: splits, minPer: minPer, ws: ws, stream: stream)
        try combine(batch: p.batch, splits: splits, ws: ws, out: out, stream: stream)
    }

    /// vAttention (SPEC 2.5) with the exact top-k predictor: sinks, window and each head's top `topK`
    /// middle keys exactly, plus a uniform sample of `b` of the other `n_s` keys weighted `n_s / b`, `b`
    /// from the pilot's variance and `(epsilon, delta)`. The sample is the `b` smallest counter-based
    /// keys of `(seed, layer, head, N, position)`, so it is fixed by the seed. `sampleSizes [B, H]`
    /// int32 gets `b`. `out [B, H, d]` fp32.
    public func vattention(_ p: DecodeInputs, config c: VAttentionGPUConfig, topK: Int, out: UInt64, sampleSizes: UInt64,
                           stream: CUDAStream) throws(CUDAError) {
        try validate(p)
        guard c.sinks >= 0, c.window >= 0, c.epsilon > 0, c.epsilon < 1, c.delta > 0, c.delta < 1, topK >= 0 else {
            throw .badArgument("vAttention needs sinks, window, top-k >= 0 and epsilon, delta in (0, 1)")
        }
        if scorer == nil {
            // CUDA-core scores (fp32 products of the stored elements), as the CPU reference computes them.
            scorer = try DecodeKernels(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                                       queryHeads: queryHeads, kvHeads: kvHeads, main: .gather, gather: .gather)
        }
        let n = p.length
        let s = min(c.sinks, n), wStart = max(s, n - c.window), middle = wStart - s
        let kTop = min(topK, middle)
        let st = (n + 3) / 4 * 4
        let logits = try buffer("logits", bytes: p.batch * queryHeads * st * 4)
        let lse = try buffer("lse", bytes: p.batch * queryHeads * 4)
        let mask = try buffer("tokenMask", bytes: p.batch * kvHeads * n * 4)
        let logW = try buffer("logWeight", bytes: p.batch * queryHeads * 4)
        try stream.memset(mask.address, value: 0, bytes: p.batch * kvHeads * n * 4)
        if middle > kTop {
            // Scores of every key: the top-k competes on them and the pilot reads them.
            try scorer!.scores(p, logits: logits.address, logitStride: st, lse: lse.address, stream: stream)
        }
        try select(batch: p.batch, scores: logits.address, sB: kvHeads * st * group, sG: st * group, sHH: 1, elem: group,
                   lo: s, count: middle, k: kTop, always: (s, wStart, n), mask: mask.address, maskStride: n, stream: stream)
        let plan = try plan(rows: p.batch * kvHeads, length: n)
        let ws = try partials(batch: p.batch, splits: 2 * plan.splits)
        try attend(p, paged: false, mask: mask.address, maskStride: n, shift: 0, bias: nil, plan: plan,
                   splitOffset: 0, totalSplits: 2 * plan.splits, ws: ws, stream: stream)
        let (bs, hs) = strides(p)
        let z = VAttentionNormal.inverseCDF(1 - c.delta / 2)
        try sampleFn.launch(grid: (group, kvHeads, p.batch), block: 1024, stream: stream,
                            [.pointer(logits.address), .int64(Int64(st)), .pointer(ws.o), .pointer(ws.ml),
                             .int32(Int32(plan.splits)), .int32(Int32(2 * plan.splits)), .pointer(p.v), bs, hs,
                             .pointer(mask.address), .int64(Int64(n)), .int32(Int32(n)), .int32(Int32(s)), .int32(Int32(wStart)),
                             .int64(Int64(bitPattern: c.seed)), .int32(Int32(c.layer)),
                             .int64(Int64(bitPattern: c.epsilon.bitPattern)), .int64(Int64(bitPattern: z.bitPattern)),
                             .pointer(logW.address), .pointer(sampleSizes)])
        try attend(p, paged: false, mask: mask.address, maskStride: n, shift: 16, bias: logW.address, plan: plan,
                   splitOffset: plan.splits, totalSplits: 2 * plan.splits, ws: ws, stream: stream)
        try combine(batch: p.batch, splits: 2 * plan.splits, ws: ws, out: out, stream: stream)
    }
}
