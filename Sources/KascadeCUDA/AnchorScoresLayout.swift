/// Which `wgmma` kernel computes the Kascade prefill anchor's tile-pooled scores on Hopper
/// (``PrefillAnchorKernels``).
public enum AnchorScoresLayout: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `S = Q K^T`: the block's query rows as the A operand; pooled scores are column sums
    /// (shuffles across lanes, shared memory across warps).
    case qk
    /// `S^T = K Q^T`: the keys as the A operand; pooled scores are row sums in registers.
    case kq
    /// As `kq`, with a quarter of the exponentials on the FMA units (polynomial) beside the MUFU unit.
    case kqPoly2
    /// As `kq`, with three eighths of the exponentials on the FMA units (polynomial).
    case kqPoly3

    /// Entry point in `prefill_anchor_wgmma.cu`.
    var kernelName: String {
        switch self {
        case .qk: return "anchor_scores_wgmma"
        case .kq: return "anchor_scores_wgmma_t"
        case .kqPoly2: return "anchor_scores_wgmma_tp2"
        case .kqPoly3: return "anchor_scores_wgmma_tp3"
        }
    }

    /// Suffix of the engine name in variant strings: `scores-wgmma`, `scores-wgmmaT`, `scores-wgmmaT-p2`, `scores-wgmmaT-p3`.
    var suffix: String {
        switch self {
        case .qk: return ""
        case .kq: return "T"
        case .kqPoly2: return "T-p2"
        case .kqPoly3: return "T-p3"
        }
    }

    public var description: String { rawValue }
}
