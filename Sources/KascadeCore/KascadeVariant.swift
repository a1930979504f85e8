/// Which index sets Kascade's reuse layers read (SPEC 2.2; the ablation variants).
public enum KascadeVariant: String, Sendable, Codable, CaseIterable {
    /// Per-KV-head sets, reuse heads mapped to anchor heads by the schedule's head maps (default).
    case headAware
    /// One set per layer, pooled over all query heads, shared by every head.
    case pooled
    /// Per-KV-head sets with the identity head map.
    case noRemap
}
