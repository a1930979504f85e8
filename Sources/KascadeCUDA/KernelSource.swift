/// A kernel source file embedded in the binary.
public enum KernelSource: String, CaseIterable, Sendable {
    /// Split-KV decode attention (dense, scores, sparse) and the combine step.
    case decodeAttention = "decode_attention.cu"
    /// The same kernels on tensor cores (mma.sync).
    case decodeAttentionMMA = "decode_attention_mma.cu"
    /// Pooled probabilities, radix top-k, random fill.
    case decodeTopK = "decode_topk.cu"
    /// Dense causal prefill on tensor cores (FlashAttention-2 style), with log-sum-exp.
    case prefillAttention = "prefill_attention.cu"
    /// Dense causal prefill on Hopper (wgmma, TMA, warp specialisation), with log-sum-exp.
    case prefillWgmma = "prefill_wgmma.cu"
    /// Quest, Twilight and vAttention decode: page bounds, int4 keys, selections, masked attention.
    case decodePeers = "decode_peers.cu"
    /// Kascade prefill anchor: per-row log-sum-exp, tile-pooled scores, per-tile top-k.
    case prefillAnchor = "prefill_anchor.cu"

    /// Source text.
    public var text: String {
        switch self {
        case .decodeAttention: return String(decoding: PackageResources.decode_attention_cu, as: UTF8.self)
        case .decodeAttentionMMA: return String(decoding: PackageResources.decode_attention_mma_cu, as: UTF8.self)
        case .decodeTopK: return String(decoding: PackageResources.decode_topk_cu, as: UTF8.self)
        case .prefillAttention: return String(decoding: PackageResources.prefill_attention_cu, as: UTF8.self)
        case .prefillWgmma: return String(decoding: PackageResources.prefill_wgmma_cu, as: UTF8.self)
        case .decodePeers: return String(decoding: PackageResources.decode_peers_cu, as: UTF8.self)
        case .prefillAnchor: return String(decoding: PackageResources.prefill_anchor_cu, as: UTF8.self)
        }
    }
}
