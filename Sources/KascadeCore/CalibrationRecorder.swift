// Kascade calibration: recording attention on a development set (Deshmukh et al., arXiv 2512.16391; SPEC 2.2).
import Dispatch

/// A dense policy that also records what Kascade's anchor selection needs.
///
/// Every layer attends densely (the model's output is the dense model's). Per layer it computes the
/// GQA-pooled post-softmax scores `P_l,g(t, .)` of each unit — a decode step (`T == 1`, all `N` keys)
/// or a prefill tile of `tile` absolute positions (candidates before the tile, full causal softmax
/// summed over the tile's queries, as Kascade's prefill anchor scores them) — and their top-k
/// (`k = budget.keys(outOf: candidates)`). Only one layer's scores are held at a time (`[G, tiles, N]`,
/// never `T x T`); the top-k sets of the step's layers are kept, and each layer `j` fills
/// `S[i, j][h2, h1]` for `i <= j` at once. When the last layer of a step is done, each unit is added
/// to the ``SimilarityAccumulator``. Units where the budget covers every candidate carry no
/// information and are skipped. As a ``ResidualObserver`` it accumulates the layer importance.
///
/// `reset()` starts a new sequence but keeps the statistics (a development set is many sequences).
public final class CalibrationRecorder: AttentionPolicy, ResidualObserver {
    public let name = "calibrate"
    public private(set) var stats = AttentionStats()
    /// Layers of the model.
    public let layers: Int
    /// KV heads per layer.
    public let kvHeads: Int
    /// Budget whose top-k sets are compared.
    public let budget: Budget
    /// Prefill tile.
    public let tile: Int
    /// Cores used.
    public var workers: Int
    /// The statistics gathered so far.
    public let accumulator: SimilarityAccumulator

    private let workspace = AttentionWorkspace()
    private var selections: [KeySelection]
    private var scores: [Float] = []
    private var pending: [Double] = []
    private var stepKey: (length: Int, queries: Int)? = nil
    private var nextLayer = 0

    /// A recorder for a model of `layers` layers with `kvHeads` KV heads.
    public init(layers: Int, kvHeads: Int, budget: Budget = try! Budget(), tile: Int = 32,
                workers: Int = ProcessInfoCores.count) {
        precondition(layers > 0 && kvHeads > 0 && tile > 0)
        self.layers = layers
        self.kvHeads = kvHeads
        self.budget = budget
        self.tile = tile
        self.workers = workers
        accumulator = SimilarityAccumulator(layers: layers, heads: kvHeads)
        selections = Array(repeating: KeySelection(heads: 0, rows: 0, capacity: 0), count: layers)
    }

    public func reset() {
        stats = AttentionStats()
        stepKey = nil
        nextLayer = 0
    }

    public func attend(layer: Int, queries: UnsafePointer<Float>, queryCount T: Int,
                       kv: KVCacheView, output: UnsafeMutablePointer<Float>) throws {
        let N = kv.length, G = kv.geometry.kvHeads
        guard layer >= 0, layer < layers else { throw AttentionError.badArgument("layer \(layer) is outside 0..<\(layers)") }
        guard G == kvHeads else { throw AttentionError.badShape("layer has \(G) KV heads, the recorder \(kvHeads)") }
        guard T >= 1, T <= N else { throw AttentionError.badShape("queries \(T) for \(N) keys") }
        let read = DenseAttention.compute(queries: queries, queryCount: T, kv: kv, output: output, causal: true,
                                          workspace: workspace, workers: workers)
        stats.record(keys: read, dense: DenseAttention.causalKeys(queryCount: T, kv: kv))

        if layer == 0 { stepKey = (N, T); nextLayer = 0 }
        // A step whose layers arrive out of order is not recorded.
        guard let key = stepKey, key.length == N, key.queries == T, layer == nextLayer else { stepKey = nil; return }
        nextLayer += 1

        let rows = T == 1 ? 1 : SparseAttention.tileRows(queryCount: T, length: N, tile: tile)
        let first = (N - T) / tile
        let need = G * rows * N
        if scores.count < need { scores = [Float](repeating: 0, count: need) }
        scores.withUnsafeMutableBufferPointer { sp in
            if T == 1 {
                KascadeAnchor.decode(queries: queries, queryCount: 1, kv: kv, budget: budget, pooled: false,
                                     into: &selections[layer], workspace: workspace, workers: workers,
                                     scores: sp.baseAddress!, scoreStride: N)
            } else {
                KascadeAnchor.prefill(queries: queries, queryCount: T, kv: kv, budget: budget, tile: tile, pooled: false,
                                      into: &selections[layer], workspace: workspace, workers: workers,
                                      scores: sp.baseAddress!, scoreStride: N)
            }
        }
        let L = layers, unit = L * L * G * G
        if layer == 0 {
            if pending.count < rows * unit { pending = [Double](repeating: 0, count: rows * unit) }
        }
        let candidates = { (row: Int) in T == 1 ? N : (first + row) * self.tile }
        let j = layer
        let sels = selections
        scores.withUnsafeBufferPointer { sp in
            pending.withUnsafeMutableBufferPointer { pp in
                let P = sp.baseAddress!, out = pp.baseAddress!
                let active = max(1, min(workers, rows))
                let body = { (w: Int) in
                    var row = w
                    while row < rows {
                        let c = candidates(row)
                        let k = self.budget.keys(outOf: c)
                        if k > 0 && k < c {
                            for h2 in 0..<G {
                                let p = P + (h2 * rows + row) * N
                                var denom = 0.0
                                for x in sels[j].positions(head: h2, row: row) { denom += Double(p[Int(x)]) }
                                for i in 0...j {
                                    for h1 in 0..<G {
                                        var mass = 0.0
                                        for x in sels[i].positions(head: h1, row: row) { mass += Double(p[Int(x)]) }
                                        out[row * unit + ((i * L + j) * G + h2) * G + h1] = denom > 0 ? mass / denom : 0
                                    }
                                }
                            }
                        }
                        row += active
                    }
                }
                if active == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: active, execute: body) }
            }
        }
        if layer == L - 1 {
            pending.withUnsafeBufferPointer { pp in
                for row in 0..<rows {
                    let c = candidates(row), k = budget.keys(outOf: c)
                    if k > 0 && k < c { accumulator.addUnit(pp.baseAddress! + row * unit) }
                }
            }
            stepKey = nil
        }
    }

    public func observe(layer: Int, residual: UnsafePointer<Float>, attentionOutput: UnsafePointer<Float>,
                        tokenCount: Int, width: Int) {
        guard layer >= 0, layer < layers else { return }
        for t in 0..<tokenCount {
            accumulator.addImportance(layer: layer, residual: residual + t * width,
                                      attentionOutput: attentionOutput + t * width, width: width)
        }
    }

    /// Head similarity reduced over the recorded units.
    public func similarity(_ reduction: SimilarityAccumulator.Reduction = .mean) -> SimilarityTensor {
        accumulator.similarity(reduction)
    }

    /// Layer scores `sim[i][j] = imp(j) * mean_h2 max_h1 S[i,j][h2,h1]`.
    public func layerScores(_ reduction: SimilarityAccumulator.Reduction = .mean) -> [[Double]] {
        AnchorSelection.layerScores(similarity(reduction), importance: accumulator.importance)
    }

    /// The DP's best `anchors` anchors and their head maps, as a schedule with this recorder's budget.
    public func schedule(anchors: Int, modelID: String, devSetID: String,
                         reduction: SimilarityAccumulator.Reduction = .mean) throws -> (schedule: KascadeSchedule, score: Double) {
        guard accumulator.units > 0 else {
            throw AttentionError.badArgument("no calibration unit was recorded (contexts shorter than the budget floor kMin=\(budget.kMin)?)")
        }
        let s = similarity(reduction)
        let best = try AnchorSelection.best(sim: AnchorSelection.layerScores(s, importance: accumulator.importance), anchors: anchors)
        let schedule = try KascadeSchedule(layers: layers, kvHeads: kvHeads, anchors: best.anchors,
                                           headMaps: AnchorSelection.headMaps(s, anchors: best.anchors),
                                           fraction: budget.fraction, tile: tile, kMin: budget.kMin,
                                           modelID: modelID, devSetID: devSetID)
        return (schedule, best.score)
    }
}
