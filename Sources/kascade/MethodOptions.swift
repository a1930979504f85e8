import ArgumentParser
import KascadeCore
import KascadeModel

extension KascadeVariant: ExpressibleByArgument {}

/// Options that choose an attention method and its budget, shared by the commands.
struct MethodOptions: ParsableArguments {
    @Option(help: "Attention method: dense, kascade (models), anchor and reuse (attend), quest, twilight, vattention, streaming.")
    var method: String = "dense"

    @Option(help: "Budget: fraction of the context each sparse method reads, in (0, 1].")
    var budget: Double = 0.10

    @Option(name: .customLong("k-min"), help: "Floor on the keys a sparse method reads.")
    var kMin: Int = 128

    @Option(help: "Kascade schedule JSON (from `kascade calibrate`); without it, the schedule shipped for the model, else --anchors evenly spaced anchors.")
    var schedule: String?

    @Option(help: "Anchors of the uncalibrated Kascade schedule used without --schedule.")
    var anchors: Int = 5

    @Option(help: "Kascade variant: headAware, pooled or noRemap.")
    var variant: KascadeVariant = .headAware

    @Option(name: .customLong("base-fraction"), help: "Twilight: fraction of the context its Quest selector keeps before pruning, in (0, 1].")
    var baseFraction: Double = 0.25

    @Option(name: .customLong("twilight-p"), help: "Twilight: probability mass the pruned set keeps, in (0, 1].")
    var topP: Double = 0.95

    @Option(help: "vAttention: relative error bound epsilon, in (0, 1).")
    var epsilon: Double = 0.05

    @Option(help: "vAttention: failure probability delta, in (0, 1).")
    var delta: Double = 0.05

    @Option(help: "vAttention: predicted set from exact top-k scores (topK) or Quest pages (questPages).")
    var predictor: String = "topK"

    @Option(name: .customLong("vattention-seed"), help: "vAttention: seed of the sampled tail.")
    var seed: UInt64 = 0

    /// The layer index `kascade attend` runs a model-level policy as (Quest and Twilight keep layers 0 and 1 dense).
    static let attendLayer = 2

    /// A one-line error of option handling.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ message: String) { description = message }
    }

    /// The budget, validated (fraction in (0, 1], kMin >= 0).
    func resolvedBudget() throws -> Budget {
        try Budget(fraction: budget, kMin: kMin)
    }

    /// The Kascade schedule: `--schedule`, checked against the model, or evenly spaced anchors.
    func resolvedSchedule(layers: Int, geometry: AttentionGeometry, modelID: String? = nil) throws -> KascadeSchedule {
        let b = try resolvedBudget()
        guard let path = schedule else {
            if let id = modelID, var shipped = ShippedSchedule.schedule(for: id) {
                // The shipped anchors and head maps, at the budget asked for.
                shipped.fraction = b.fraction
                shipped.kMin = b.kMin
                return shipped
            }
            return try KascadeSchedule.evenlySpaced(layers: layers, kvHeads: geometry.kvHeads, anchors: min(anchors, layers),
                                                    fraction: b.fraction, kMin: b.kMin)
        }
        let s = try KascadeSchedule.load(path: path)
        guard s.layers == layers, s.kvHeads == geometry.kvHeads else {
            throw Failure("schedule \(path) is for \(s.layers) layers of \(s.kvHeads) KV heads, the model has \(layers) of \(geometry.kvHeads)")
        }
        return s
    }
}

/// The one place where a method name becomes an attention policy for a model of `layers` layers.
func makeAttentionPolicy(_ options: MethodOptions, layers: Int, geometry: AttentionGeometry, modelID: String? = nil) throws -> AttentionPolicy {
    switch options.method {
    case "dense":
        return DenseAttention()
    case "kascade":
        return KascadeAttention(schedule: try options.resolvedSchedule(layers: layers, geometry: geometry, modelID: modelID), variant: options.variant)
    case "quest":
        return QuestAttention(budget: try options.resolvedBudget())
    case "twilight":
        guard options.baseFraction > 0, options.baseFraction <= 1 else {
            throw MethodOptions.Failure("--base-fraction \(options.baseFraction) is outside (0, 1]")
        }
        guard options.topP > 0, options.topP <= 1 else {
            throw MethodOptions.Failure("--twilight-p \(options.topP) is outside (0, 1]")
        }
        return TwilightAttention(budget: try options.resolvedBudget(), baseFraction: options.baseFraction, topP: Float(options.topP))
    case "vattention":
        guard options.epsilon > 0, options.epsilon < 1 else { throw MethodOptions.Failure("--epsilon \(options.epsilon) is outside (0, 1)") }
        guard options.delta > 0, options.delta < 1 else { throw MethodOptions.Failure("--delta \(options.delta) is outside (0, 1)") }
        let predictor: VAttentionPredictor
        switch options.predictor {
        case "topK": predictor = .topK
        case "questPages": predictor = .questPages
        default: throw MethodOptions.Failure("--predictor '\(options.predictor)' is not topK or questPages")
        }
        return VAttention(budget: try options.resolvedBudget(), epsilon: options.epsilon, delta: options.delta,
                          predictor: predictor, seed: options.seed)
    case "streaming":
        return StreamingLLMAttention(budget: try options.resolvedBudget())
    default:
        throw MethodOptions.Failure("unknown method '\(options.method)' (dense, kascade, anchor, reuse, quest, twilight, vattention, streaming)")
    }
}
