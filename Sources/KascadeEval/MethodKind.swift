/// The attention methods and ablations an evaluation compares.
public enum MethodKind: String, Codable, CaseIterable, Sendable {
    /// Exact attention, the reference.
    case dense
    /// Kascade with the shipped (DP-chosen) schedule, head-aware.
    case kascade
    /// Quest page selection (decode only; prefill dense).
    case quest
    /// Twilight select-then-prune (decode only; prefill dense).
    case twilight
    /// vAttention sampled estimate (decode only; prefill dense).
    case vattention
    /// StreamingLLM sinks plus a recent window.
    case streaming
    /// Kascade in decode only, after the shared dense prefill: on the same footing as Quest, Twilight
    /// and vAttention, which leave prefill dense.
    case kascadeDecode = "kascade-decode"
    /// Ablation: Kascade with one index set shared by all heads of a layer.
    case kascadePooled = "kascade-pooled"
    /// Ablation: Kascade with the identity head map.
    case kascadeNoRemap = "kascade-noremap"
    /// Ablation: Kascade with anchors every 4 layers instead of the DP's.
    case kascadeUniform = "kascade-uniform"
    /// Reference: every layer an anchor (exact pooled top-k in every layer, nothing reused): what
    /// index reuse could reach at this budget.
    case kascadeExact = "kascade-exact"

    /// Whether the method only changes decode attention, so its prompt's KV cache equals dense's and
    /// the dense prefill can be shared.
    public var isDecodeOnly: Bool { self == .quest || self == .twilight || self == .vattention || self == .kascadeDecode }

    /// Whether the method runs the calibrated Kascade schedule's anchors and head maps (the uniform
    /// and every-layer ablations build their own).
    public var usesSchedule: Bool { [.kascade, .kascadeDecode, .kascadePooled, .kascadeNoRemap].contains(self) }

    /// The default comparison: dense, Kascade, Quest, Twilight, vAttention, StreamingLLM.
    public static let defaults: [MethodKind] = [.dense, .kascade, .quest, .twilight, .vattention, .streaming]
    /// The ablations of Kascade.
    public static let ablations: [MethodKind] = [.kascadeDecode, .kascadePooled, .kascadeNoRemap, .kascadeUniform, .kascadeExact]
}
