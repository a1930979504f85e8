/// One compiled build of the split-KV attention kernels (dense, dense with scores, scores only,
/// sparse over index lists) for one variant, with its launch planning. The combine step is one
/// kernel for every build (`DecodeKernels.combineLaunch`).
final class AttentionKernelSet {
    /// Threads per block of the split kernels.
    static let threads = 128
    /// Splits the combine kernel accepts (its `MAX_SPLITS` in decode_topk.cu).
    static let maxSplits = 1024

    let variant: DecodeVariant
    let device: CUDADevice
    let headDim: Int
    let group: Int
    let module: CUDAModule
    let denseSplit: KernelFunction
    let denseLogitsSplit: KernelFunction
    let scoresSplit: KernelFunction
    let sparseSplit: KernelFunction
    /// Attention over listed keys whose scores are given (`decode_sparse_logits_split`): groups that
    /// are a multiple of 4; nil otherwise.
    let sparseLogitsSplit: KernelFunction?
    /// Quest's attention over page lists with per-head page bits (`decode_page_list_split`): the
    /// tensor-core builds only; nil otherwise.
    let pageListSplit: KernelFunction?
    private var slotsCache: [String: Int] = [:]

    /// Compiles (or loads from the disk cache) `variant` for the element type, head dim and group.
    init(device: CUDADevice, compiler: KernelCompiler, dtype: KVDType, headDim: Int, group: Int,
         variant: DecodeVariant) throws(CUDAError) {
        guard variant.tile == 32 || variant.tile == 64 else { throw .unsupported("tile of \(variant.tile) keys (32 and 64 are built)") }
        guard (2...4).contains(variant.stages), variant.waves > 0 else {
            throw .unsupported("pipeline of \(variant.stages) stages, \(variant.waves) waves")
        }
        if variant.mma { guard variant.tile == 64 else { throw .unsupported("tensor-core kernels use 64-key tiles") } }
        self.variant = variant
        self.device = device
        self.headDim = headDim
        self.group = group
        var defs = ["KV_BF16": dtype == .bf16 ? "1" : "0", "HEAD_DIM": "\(headDim)", "GROUP": "\(group)",
                    "PIPE_STAGES": "\(variant.stages)"]
        if !variant.mma { defs["TILE_KEYS"] = "\(variant.tile)" }
        if variant.mma && variant.prefetch { defs["L2_PREFETCH"] = "1" }
        let source: KernelSource = variant.mma ? .decodeAttentionMMA : .decodeAttention
        module = try CUDAModule(device: device, cubin: try compiler.cubin(source, defines: defs), overlapsLaunches: source.overlapsLaunches)
        denseSplit = try module.function("decode_dense_split")
        denseLogitsSplit = try module.function("decode_dense_logits_split")
        scoresSplit = try module.function("decode_scores_split")
        sparseSplit = try module.function("decode_sparse_split")
        sparseLogitsSplit = group % 4 == 0 ? try module.function("decode_sparse_logits_split") : nil
        pageListSplit = variant.mma ? try module.function("decode_page_list_split") : nil
    }

    /// Dynamic shared memory of `decode_page_list_split`: the sparse kernel's and each stage's 4 page
    /// numbers and head bits.
    var pageListSharedBytes: Int { sharedBytes(values: true) + variant.stages * 32 }

    /// Dynamic shared memory of the split kernels, bytes.
    func sharedBytes(values: Bool) -> Int {
        let t = variant.tile, row = 2 * headDim + 16
        if variant.mma { return 16 * row + variant.stages * t * row * (values ? 2 : 1) }
        let floats = group * headDim + group * t + 4 * ((group + 3) / 4)
        return floats * 4 + variant.stages * t * row * (values ? 2 : 1)
    }

    /// Blocks of `fn` (128 threads, `sharedBytes` of dynamic shared memory) resident on the whole
    /// device at once; asked of the driver once per kernel.
    func residentBlocks(_ fn: KernelFunction, sharedBytes: Int) throws(CUDAError) -> Int {
        if let s = slotsCache[fn.name] { return s }
        let s = max(1, try fn.occupancy(threads: AttentionKernelSet.threads, sharedBytes: sharedBytes)) * device.multiprocessors
        slotsCache[fn.name] = s
        return s
    }

    /// Waves the anchor's scores-only kernel plans. It reads half the bytes of a tile: on tensor cores
    /// with the L2 prefetch, twice the variant's waves of shorter splits measured 1-4% faster at batch
    /// 8 and 64 on the H100 (bench/results/waves-sweep/); dense decode was not faster with them.
    var scoresWaves: Int { variant.mma ? 2 * variant.waves : variant.waves }

    /// Tiles a split holds at least: 2 (the cp.async pipeline overlaps them), or 1 for the kernels
    /// that read values when a split per tile of every row still fits one block per multiprocessor
    /// (a few hundred gathered positions at batch 1), where each block's chain of dependent loads is
    /// what takes the time. On the H100 one tile per split took the anchor at batch 1, 8k from 26.7-26.8
    /// to 26.3 us and reuse from 10.0-10.2 to 9.4-9.6 us; where the splits outnumbered the
    /// multiprocessors it was slower (reuse at batch 1, 32k 17.0 against 14.8 us;
    /// bench/results/select-latency/5/).
    static func minimumTilesPerSplit(values: Bool, rows: Int, count: Int, tile: Int, multiprocessors: Int) -> Int {
        values && rows * ((count + tile - 1) / tile) <= multiprocessors ? 1 : 2
    }

    /// Split count and keys per split for `count` keys in each of `rows` (sequence, KV head) rows:
    /// about `waves` (default: the variant's) times the blocks resident at once (at most 2 for very
    /// few rows), at least `minimumTilesPerSplit` tiles per split.
    func plan(_ fn: KernelFunction, values: Bool, rows: Int, count: Int, waves aimed: Int? = nil) throws(CUDAError) -> (splits: Int, chunk: Int) {
        let t = variant.tile
        let slots = try residentBlocks(fn, sharedBytes: sharedBytes(values: values))
        let r = max(1, rows)
        // Few rows (batch 1): two waves of longer splits measured about 6% faster than four at
        // 128k on the H100; more rows keep the waves aimed for.
        let full = aimed ?? variant.waves
        let waves = r * 16 < slots ? min(full, 2) : full
        var want = (waves * slots + r - 1) / r
        if variant.balanced {
            // Blocks of equal work finish in waves: among split counts within a wave of the target,
            // take the one whose last wave is fullest (then the one nearest the target).
            let lo = max(1, ((waves - 1) * slots + r - 1) / r), hi = max(lo, ((waves + 1) * slots + r - 1) / r)
            var best = (fill: -1.0, distance: Int.max, splits: want)
            for s in lo...hi {
                let blocks = r * s
                let fill = Double(blocks) / Double((blocks + slots - 1) / slots * slots)
                let distance = abs(s - want)
                if fill > best.fill + 1e-9 || (abs(fill - best.fill) <= 1e-9 && distance < best.distance) {
                    best = (fill, distance, s)
                }
            }
            want = best.splits
        }
        let least = AttentionKernelSet.minimumTilesPerSplit(values: values, rows: r, count: count, tile: t,
                                                            multiprocessors: device.multiprocessors)
        let maxSplits = max(1, (count + least * t - 1) / (least * t))
        var splits = min(max(want, 1), maxSplits, AttentionKernelSet.maxSplits)
        let per = (count + splits - 1) / splits
        let chunk = max(t, (per + t - 1) / t * t)
        splits = max(1, (count + chunk - 1) / chunk)
        return (splits, chunk)
    }
}
