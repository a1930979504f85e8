import KascadeCore

/// Builds the attention policy of a method at a budget, with each method's paper defaults.
///
/// Budgets are `Budget(fraction: spec.budget, kMin: 128)`. Kascade uses `schedule` with its fraction
/// replaced by the spec's budget; `kascade-pooled` and `kascade-noremap` are the same schedule in the
/// other variants; `kascade-uniform` puts an anchor on every 4th layer (0, 4, 8, ...) with identity
/// head maps; `kascade-exact` makes every layer an anchor. vAttention uses its exact top-k predictor and seed 0; Twilight its 25% Quest base and p = 0.95.
public struct MethodPolicies {
    /// The Kascade schedule (the shipped one for the model, or `--schedule`); nil when unavailable.
    public let schedule: KascadeSchedule?
    /// Floor on the keys kept, for every method.
    public let kMin: Int

    /// A factory over `schedule`.
    public init(schedule: KascadeSchedule?, kMin: Int = 128) {
        self.schedule = schedule
        self.kMin = kMin
    }

    /// The core method `spec` stands for, with each method's paper defaults.
    public func method(_ spec: MethodSpec) throws -> AttentionMethod {
        let budget = try Budget(fraction: spec.budget, kMin: kMin)
        switch spec.kind {
        case .dense: return .dense
        case .quest: return .quest(budget)
        case .twilight: return .twilight(budget)
        case .vattention: return .vattention(budget)
        case .streaming: return .streaming(budget)
        case .kascade, .kascadeDecode, .kascadePooled, .kascadeNoRemap:
            guard var s = schedule else { throw EvalError.backend("method \(spec.kind.rawValue) needs a Kascade schedule (--schedule FILE)") }
            s.fraction = spec.budget
            s.kMin = kMin
            let variant: KascadeVariant = spec.kind == .kascadePooled ? .pooled : (spec.kind == .kascadeNoRemap ? .noRemap : .headAware)
            return .kascade(s, variant)
        case .kascadeUniform, .kascadeExact:
            guard let s = schedule else { throw EvalError.backend("method \(spec.kind.rawValue) needs the model's layer count from a schedule") }
            let stride = spec.kind == .kascadeUniform ? 4 : 1
            let anchors = Array(Swift.stride(from: 0, to: s.layers, by: stride))
            let fixed = try KascadeSchedule(layers: s.layers, kvHeads: s.kvHeads, anchors: anchors,
                                            headMaps: Array(repeating: Array(0..<s.kvHeads), count: s.layers),
                                            fraction: spec.budget, tile: s.tile, kMin: kMin,
                                            modelID: s.modelID, devSetID: stride == 1 ? "every-layer" : "uniform-every-4")
            return .kascade(fixed, .headAware)
        }
    }

    /// A fresh policy for `spec`.
    public func make(_ spec: MethodSpec) throws -> AttentionPolicy {
        try method(spec).makePolicy()
    }
}
