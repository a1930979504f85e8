// vAttention: Verified Sparse Attention.
// Desai, Agrawal, Liu, Yang, Gonzalez, Stoica, et al. arXiv 2510.05688.
import Dispatch

/// vAttention (SPEC 2.5): exact attention over a deterministic set of heavy keys plus a uniform
/// sample of the rest, sized so that numerator and denominator meet an `(epsilon, delta)` bound.
///
/// Per query head and decode step over `N` keys:
/// - **Deterministic set:** the first `sinks` keys, the last `window` keys, and a predicted top-k of
///   the keys between them, `k = budget.keys(outOf: N)` (capped at what is left): either the exact
///   top-k of the scores (``VAttentionPredictor/topK``, an oracle that scores every key) or the keys
///   of the top `ceil(k / 16)` Quest pages (``VAttentionPredictor/questPages``).
/// - **Sample:** the remaining `n_s` keys are sampled uniformly without replacement (a partial
///   Fisher–Yates shuffle). A pilot of `min(n_s, pilotSamples)` draws estimates the standard deviation
///   `sigma` of one sampled term `e^s` (denominator) and `e^s v` (numerator, square root of the
///   covariance trace). With `z = Phi^-1(1 - delta/2)` the sample size is the smallest `b` with
///   `b >= (z * n_s * sigma / tau)^2` for both, `tau = epsilon * D` resp. `epsilon * |N|` (`D`, `N`
///   estimated from the deterministic set plus the scaled pilot), at least the pilot and at most
///   `n_s`. The pilot is the first part of the final sample.
/// - **Estimate:** `out = (sum_det e^s v + (n_s/b) sum_smp e^s v) / (sum_det e^s + (n_s/b) sum_smp e^s)`.
///   Numerator and denominator are unbiased; by the bound each is within `epsilon` (relative) with
///   probability about `1 - delta`, so `|out - dense| <= 2 epsilon / (1 - epsilon) * |dense|` with
///   probability about `1 - 2 delta`.
///
/// Sampling is seeded: the generator of a head-step is derived from `(seed, layer, head, N)`, so one
/// seed always gives identical output, whatever the thread schedule. ``meanSampleSize`` reports `b`.
/// ``AttentionStats/keysRead`` counts the deterministic set plus the sample. A budget covering the
/// context (fraction 1) puts every key in the deterministic set, so the method then equals dense.
///
/// vAttention is a decode method: a prefill chunk (`T > 1`) runs dense. Work is split over query
/// heads across all cores; scratch grows only with `N`.
public final class VAttention: AttentionPolicy {
    /// Scratch of the dense layers and prefill chunks, kept between calls.
    private let denseWorkspace = AttentionWorkspace()
    public let name = "vattention"
    public private(set) var stats = AttentionStats()
    /// Size of the predicted top-k, per query head.
    public let budget: Budget
    /// Sink keys at the start of the sequence, always read.
    public let sinks: Int
    /// Most recent keys, always read.
    public let window: Int
    /// Relative error tolerated on numerator and denominator.
    public let epsilon: Double
    /// Probability of exceeding `epsilon`.
    public let delta: Double
    /// How the top-k part of the deterministic set is predicted.
    public let predictor: VAttentionPredictor
    /// Seed of the sampling.
    public let seed: UInt64
    /// Pilot draws that estimate the variance (part of the final sample).
    public static let pilotSamples = 32
    /// Quest page size of the `questPages` predictor.
    public let pageSize = 16

    /// Sum over sparse head-steps of the sample size `b`.
    public private(set) var sampledKeysTotal = 0
    /// Sum over sparse head-steps of the population sampled from, `n_s`.
    public private(set) var residualKeysTotal = 0
    /// Sparse head-steps counted.
    public private(set) var sampledSteps = 0
    /// Sample size `b` per query head in the last sparse call, `[H]`.
    public private(set) var lastSampleSizes: [Int] = []

    /// Record every head-step in ``traces`` (for tests; allocates).
    var recordsTraces = false
    /// Head-steps recorded while ``recordsTraces`` is on.
    private(set) var traces: [VAttentionTrace] = []

    var tables: [QuestPageTable] = []
    let floats = MethodScratch<Float>()
    let ints = MethodScratch<Int32>()
    let records = MethodScratch<VAttentionHeadRecord>()

    /// A vAttention policy; defaults are the paper's 128 sinks, 128 window keys and `epsilon = delta = 0.05`.
    public init(budget: Budget = try! Budget(), sinks: Int = 128, window: Int = 128, epsilon: Double = 0.05,
                delta: Double = 0.05, predictor: VAttentionPredictor = .topK, seed: UInt64 = 0) {
        precondition(sinks >= 0 && window >= 0, "sinks \(sinks) and window \(window) must be >= 0")
        precondition(epsilon > 0 && epsilon < 1, "epsilon \(epsilon) is outside (0, 1)")
        precondition(delta > 0 && delta < 1, "delta \(delta) is outside (0, 1)")
        self.budget = budget
        self.sinks = sinks
        self.window = window
        self.epsilon = epsilon
        self.delta = delta
        self.predictor = predictor
        self.seed = seed
        zScore = VAttentionNormal.inverseCDF(1 - delta / 2)
    }

    /// Mean sample size `b` per query head and sparse decode step (0 before any).
    public var meanSampleSize: Double { sampledSteps > 0 ? Double(sampledKeysTotal) / Double(sampledSteps) : 0 }

    /// Mean population `n_s` the samples were drawn from (0 before any).
    public var meanResidualSize: Double { sampledSteps > 0 ? Double(residualKeysTotal) / Double(sampledSteps) : 0 }

    /// `Phi^-1(1 - delta/2)`, the two-sided normal quantile of the bound.
    public let zScore: Double

    /// Smallest `b` with `b >= (z * n_s * sigma / tau)^2`, clamped to `0 ... n_s` (`n_s` when `tau` is 0
    /// and `sigma` is not).
    public static func requiredSamples(population ns: Int, sigma: Double, tau: Double, z: Double) -> Int {
        guard sigma > 0 else { return 0 }
        guard tau > 0 else { return ns }
        let b = (z * Double(ns) * sigma / tau) * (z * Double(ns) * sigma / tau)
        return b >= Double(ns) ? ns : Int(b.rounded(.up))
    }

    public func reset() {
        stats = AttentionStats()
        sampledKeysTotal = 0
        residualKeysTotal = 0
        sampledSteps = 0
        lastSampleSizes = []
        traces = []
        for t in tables { t.clear() }
    }

    public func attend(layer: Int, queries: UnsafePointer<Float>, queryCount: Int,
                       kv: KVCacheView, output: UnsafeMutablePointer<Float>) throws {
        let geo = kv.geometry
        let H = geo.queryHeads, d = geo.headDim, N = kv.length, T = queryCount
        if T > 1 {
            _ = DenseAttention.compute(queries: queries, queryCount: T, kv: kv, output: output, causal: true,
                                       workspace: denseWorkspace, workers: ProcessInfoCores.count)
            let dense = DenseAttention.causalKeys(queryCount: T, kv: kv)
            stats.record(keys: dense, dense: dense)
            return
        }
        precondition(T == 1 && N >= 1, "decode needs one query over a non-empty cache")
        var table: QuestPageTable? = nil
        if predictor == .questPages {
            while tables.count <= layer { tables.append(QuestPageTable(pageSize: pageSize)) }
            tables[layer].update(from: kv)
            table = tables[layer]
        }
        let layout = HeadScratchLayout(length: N, headDim: d, pageSize: pageSize)
        let f = floats.reserve(H * layout.floats), n = ints.reserve(H * layout.ints)
        let rec = records.reserve(H)
        let z = zScore
        let workers = min(H, ProcessInfoCores.count)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for h in stride(from: w, to: H, by: workers) {
                var rng = VAttentionRandom(seed: seed, stream: layer, h, N)
                rec[h] = attendHead(q: queries + h * d, kv: kv, g: geo.kvHead(ofQueryHead: h), table: table,
                                    z: z, rng: &rng, layout: layout,
                                    floats: f + h * layout.floats, ints: n + h * layout.ints, out: output + h * d)
            }
        }
        if lastSampleSizes.count != H { lastSampleSizes = [Int](repeating: 0, count: H) }
        var read = 0
        for h in 0..<H {
            let r = rec[h]
            read += r.deterministic + r.sampled
            sampledKeysTotal += r.sampled
            residualKeysTotal += r.residual
            lastSampleSizes[h] = r.sampled
            if recordsTraces {
                let ints = n + h * layout.ints
                let det = Array(UnsafeBufferPointer(start: ints + layout.deterministic, count: r.deterministic))
                let pop = Array(UnsafeBufferPointer(start: ints + layout.residual, count: r.residual))
                traces.append(VAttentionTrace(layer: layer, head: h, record: r, deterministic: det,
                                              sample: Array(pop.prefix(r.sampled)), population: pop.sorted()))
            }
        }
        sampledSteps += H
        stats.record(keys: Double(read), dense: Double(H * N))
    }
}
