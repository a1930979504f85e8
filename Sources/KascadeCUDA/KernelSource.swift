/// A kernel source file embedded in the binary.
public enum KernelSource: String, CaseIterable, Sendable {
    /// Split-KV decode attention (dense, scores, sparse) on CUDA cores, then the entry points of
    /// `decode_attention_entries.cu`.
    case decodeAttention = "decode_attention.cu"
    /// The same kernels on tensor cores (mma.sync), with the same entry points.
    case decodeAttentionMMA = "decode_attention_mma.cu"
    /// Pooled probabilities, radix top-k (split path, then the fused path of
    /// `decode_pool_select.cu`), the split-KV combine step, random fill.
    case decodeTopK = "decode_topk.cu"
    /// Dense causal prefill on tensor cores (FlashAttention-2 style), with log-sum-exp.
    case prefillAttention = "prefill_attention.cu"
    /// Dense causal prefill on Hopper (wgmma, TMA, warp specialisation), with log-sum-exp.
    case prefillWgmma = "prefill_wgmma.cu"
    /// Quest, Twilight and vAttention decode: page bounds, int4 keys, selections, masked attention
    /// (`decode_peers.cu`, then `decode_peers_select.cu`, `decode_peers_twilight_vattention.cu` and
    /// `decode_peers_attend.cu`).
    case decodePeers = "decode_peers.cu"
    /// Kascade prefill anchor: per-row log-sum-exp, tile-pooled scores, per-tile top-k.
    case prefillAnchor = "prefill_anchor.cu"
    /// Kascade prefill anchor on Hopper: the log-sum-exp (`prefill_wgmma` built with `LSE_ONLY`) and
    /// the tile-pooled scores (`anchor_scores_wgmma`); compiled after `prefill_wgmma.cu`, whose helpers it uses.
    case prefillAnchorWgmma = "prefill_anchor_wgmma.cu"
    /// Kascade prefill reuse on Hopper (`prefill_reuse_wgmma`: cp.async gathers, wgmma); compiled after
    /// `prefill_wgmma.cu`, whose helpers it uses.
    case prefillReuseWgmma = "prefill_reuse_wgmma.cu"

    /// The device helpers (`kernels/common.cuh`: element type, conversions, fast exp2, m16n8k16
    /// products, ldmatrix, cp.async, the histogram add) that the CUDA-core and `mma.sync` kernel files
    /// and the decode selection are compiled after.
    public static var commonHelpers: String { gridDependency + String(decoding: PackageResources.common_cuh, as: UTF8.self) }

    /// `kernels/grid_dependency.cuh`: `grid_dependency_sync()`, which every decode kernel calls first
    /// (``overlapsLaunches``); part of ``commonHelpers``.
    static var gridDependency: String { String(decoding: PackageResources.grid_dependency_cuh, as: UTF8.self) + "\n" }

    /// Whether every kernel of the source begins with `grid_dependency_sync()`, so that its module may
    /// overlap launches (``CUDAModule/overlapsLaunches``): the decode sources.
    public var overlapsLaunches: Bool {
        switch self {
        case .decodeAttention, .decodeAttentionMMA, .decodeTopK, .decodePeers: return true
        case .prefillAttention, .prefillWgmma, .prefillAnchor, .prefillAnchorWgmma, .prefillReuseWgmma: return false
        }
    }

    /// Source text: the file, after ``commonHelpers`` where it uses them (or after
    /// `prefill_wgmma.cu` for the Hopper anchor and reuse files).
    public var text: String {
        let helpers = KernelSource.commonHelpers + "\n"
        switch self {
        case .decodeAttention:
            return helpers + String(decoding: PackageResources.decode_attention_cu, as: UTF8.self)
                + String(decoding: PackageResources.decode_attention_entries_cu, as: UTF8.self)
        case .decodeAttentionMMA:
            return helpers + String(decoding: PackageResources.decode_attention_mma_cu, as: UTF8.self)
                + String(decoding: PackageResources.decode_attention_entries_cu, as: UTF8.self)
        case .decodeTopK:
            return helpers + String(decoding: PackageResources.decode_topk_cu, as: UTF8.self)
                + String(decoding: PackageResources.decode_pool_select_cu, as: UTF8.self)
        case .prefillAttention: return helpers + String(decoding: PackageResources.prefill_attention_cu, as: UTF8.self)
        case .prefillWgmma: return String(decoding: PackageResources.prefill_wgmma_cu, as: UTF8.self)
        case .decodePeers:
            return helpers + String(decoding: PackageResources.decode_peers_cu, as: UTF8.self)
                + String(decoding: PackageResources.decode_peers_select_cu, as: UTF8.self)
                + String(decoding: PackageResources.decode_peers_twilight_vattention_cu, as: UTF8.self)
                + String(decoding: PackageResources.decode_peers_attend_cu, as: UTF8.self)
        case .prefillAnchor: return helpers + String(decoding: PackageResources.prefill_anchor_cu, as: UTF8.self)
        case .prefillAnchorWgmma:
            return KernelSource.prefillWgmma.text + "\n" + String(decoding: PackageResources.prefill_anchor_wgmma_cu, as: UTF8.self)
        case .prefillReuseWgmma:
            return KernelSource.prefillWgmma.text + "\n" + String(decoding: PackageResources.prefill_reuse_wgmma_cu, as: UTF8.self)
        }
    }
}
