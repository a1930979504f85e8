/// An attention method with its parameters: the one place where a method becomes a policy, shared by
/// the command line, the evaluation and library users.
///
/// ```swift
/// let policy = try AttentionMethod.quest(try Budget(fraction: 0.1)).makePolicy()
/// ```
/// `makePolicy` validates every parameter and throws a one-line ``AttentionError`` instead of
/// stopping on the methods' preconditions.
public enum AttentionMethod: Sendable {
    /// Exact attention (SPEC 2.1).
    case dense
    /// Kascade with a schedule (its fraction and kMin are the budget) in a variant (SPEC 2.2).
    case kascade(KascadeSchedule, KascadeVariant)
    /// Quest with pages of 16 and two dense layers (SPEC 2.3).
    case quest(Budget)
    /// Twilight: a Quest base at `baseFraction` of the context, pruned to top-p mass `topP` (SPEC 2.4).
    case twilight(Budget, baseFraction: Double, topP: Double)
    /// vAttention with error bound `epsilon`, failure probability `delta`, a predictor and a seed (SPEC 2.5).
    case vattention(Budget, epsilon: Double, delta: Double, predictor: VAttentionPredictor, seed: UInt64)
    /// StreamingLLM: 4 sinks and a recent window at the budget (SPEC 2.6).
    case streaming(Budget)

    /// The method's name as the command line spells it.
    public var name: String {
        switch self {
        case .dense: return "dense"
        case .kascade: return "kascade"
        case .quest: return "quest"
        case .twilight: return "twilight"
        case .vattention: return "vattention"
        case .streaming: return "streaming"
        }
    }

    /// Twilight and vAttention with their papers' defaults (base 25%, p = 0.95; epsilon = delta = 0.05, exact top-k, seed 0).
    public static func twilight(_ budget: Budget) -> AttentionMethod {
        .twilight(budget, baseFraction: 0.25, topP: 0.95)
    }

    /// vAttention with the paper's defaults: epsilon = delta = 0.05, exact top-k predictor, seed 0.
    public static func vattention(_ budget: Budget) -> AttentionMethod {
        .vattention(budget, epsilon: 0.05, delta: 0.05, predictor: .topK, seed: 0)
    }

    /// Checks the parameters: what ``makePolicy()`` would refuse, as a one-line error.
    public func validate() throws(AttentionError) {
        switch self {
        case .dense, .kascade, .quest, .streaming:
            return
        case .twilight(_, let base, let p):
            guard base > 0, base <= 1 else { throw .badArgument("Twilight base fraction \(base) is outside (0, 1]") }
            guard p > 0, p <= 1 else { throw .badArgument("Twilight top-p \(p) is outside (0, 1]") }
        case .vattention(_, let epsilon, let delta, _, _):
            guard epsilon > 0, epsilon < 1 else { throw .badArgument("vAttention epsilon \(epsilon) is outside (0, 1)") }
            guard delta > 0, delta < 1 else { throw .badArgument("vAttention delta \(delta) is outside (0, 1)") }
        }
    }

    /// A fresh policy (its own state and statistics) for this method.
    public func makePolicy() throws(AttentionError) -> AttentionPolicy {
        try validate()
        switch self {
        case .dense:
            return DenseAttention()
        case .kascade(let schedule, let variant):
            return KascadeAttention(schedule: schedule, variant: variant)
        case .quest(let budget):
            return QuestAttention(budget: budget)
        case .twilight(let budget, let base, let p):
            return TwilightAttention(budget: budget, baseFraction: base, topP: Float(p))
        case .vattention(let budget, let epsilon, let delta, let predictor, let seed):
            return VAttention(budget: budget, epsilon: epsilon, delta: delta, predictor: predictor, seed: seed)
        case .streaming(let budget):
            return StreamingLLMAttention(budget: budget)
        }
    }
}
