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

/// The core method that `options` name, for a model of `layers` layers; `KascadeCore.AttentionMethod`
/// validates the parameters and builds the policy.
func attentionMethod(_ options: MethodOptions, layers: Int, geometry: AttentionGeometry, modelID: String? = nil) throws -> AttentionMethod {
    switch options.method {
    case "dense":
        return .dense
    case "kascade":
        return .kascade(try options.resolvedSchedule(layers: layers, geometry: geometry, modelID: modelID), options.variant)
    case "quest":
        return .quest(try options.resolvedBudget())
    case "twilight":
        return .twilight(try options.resolvedBudget(), baseFraction: options.baseFraction, topP: options.topP)
    case "vattention":
        guard let predictor = VAttentionPredictor(rawValue: options.predictor) else {
            throw MethodOptions.Failure("--predictor '\(options.predictor)' is not topK or questPages")
        }
        return .vattention(try options.resolvedBudget(), epsilon: options.epsilon, delta: options.delta,
                           predictor: predictor, seed: options.seed)
    case "streaming":
        return .streaming(try options.resolvedBudget())
    default:
        throw MethodOptions.Failure("unknown method '\(options.method)' (dense, kascade, anchor, reuse, quest, twilight, vattention, streaming)")
    }
}

/// A fresh attention policy for the method `options` name (see ``attentionMethod(_:layers:geometry:modelID:)``).
func makeAttentionPolicy(_ options: MethodOptions, layers: Int, geometry: AttentionGeometry, modelID: String? = nil) throws -> AttentionPolicy {
    try attentionMethod(options, layers: layers, geometry: geometry, modelID: modelID).makePolicy()
}
