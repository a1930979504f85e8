// Kascade calibration statistics (Deshmukh et al., arXiv 2512.16391; SPEC 2.2).

/// Streaming statistics for anchor selection: the head similarity `S[i,j][h2,h1]` over calibration
/// units (decode steps and prefill tiles), reduced by mean or min over units, and the layer
/// importance `imp(j) = mean over tokens of 1 - cos(x_j, x_j + attn_out_j)`.
///
/// One unit: `S[i,j][h2,h1] = mass(P_j,h2 on TopK_i,h1) / mass(P_j,h2 on TopK_j,h2)` for every `i <= j`.
public final class SimilarityAccumulator {
    /// How `S` is reduced over units.
    public enum Reduction: String, Sendable, Codable, CaseIterable {
        /// Average over units (the default).
        case mean
        /// Worst unit.
        case min
    }

    /// Layers `L`.
    public let layers: Int
    /// KV heads `G`.
    public let heads: Int
    /// Units added so far.
    public private(set) var units = 0
    private var sums: SimilarityTensor
    private var mins: SimilarityTensor
    private var importanceSum: [Double]
    private var importanceCount: [Int]

    /// Empty statistics for `layers` layers of `heads` KV heads.
    public init(layers: Int, heads: Int) {
        self.layers = layers
        self.heads = heads
        sums = SimilarityTensor(layers: layers, heads: heads)
        mins = SimilarityTensor(layers: layers, heads: heads)
        for i in 0..<mins.values.count { mins.values[i] = .infinity }
        importanceSum = [Double](repeating: 0, count: layers)
        importanceCount = [Int](repeating: 0, count: layers)
    }

    /// Adds one unit's similarity `s`, `[L, L, G, G]` row-major (entries with `i > j` are ignored).
    public func addUnit(_ s: UnsafePointer<Double>) {
        units += 1
        let L = layers, G = heads
        for i in 0..<L {
            for j in i..<L {
                for x in 0..<(G * G) {
                    let o = (i * L + j) * G * G + x
                    sums.values[o] += s[o]
                    mins.values[o] = Swift.min(mins.values[o], s[o])
                }
            }
        }
    }

    /// Adds `1 - cos(x, x + a)` of one token of `layer` (residual `x` and attention output `a`, `width` floats).
    public func addImportance(layer: Int, residual: UnsafePointer<Float>, attentionOutput: UnsafePointer<Float>, width: Int) {
        var xy = 0.0, xx = 0.0, yy = 0.0
        for i in 0..<width {
            let x = Double(residual[i]), y = x + Double(attentionOutput[i])
            xy += x * y; xx += x * x; yy += y * y
        }
        let cos = xx > 0 && yy > 0 ? xy / (xx * yy).squareRoot() : 1
        importanceSum[layer] += 1 - cos
        importanceCount[layer] += 1
    }

    /// `S` reduced over the units (0 when no unit was added).
    public func similarity(_ reduction: Reduction = .mean) -> SimilarityTensor {
        guard units > 0 else { return SimilarityTensor(layers: layers, heads: heads) }
        switch reduction {
        case .mean:
            var s = sums
            for i in 0..<s.values.count { s.values[i] /= Double(units) }
            return s
        case .min:
            var s = mins
            for i in 0..<s.values.count where !s.values[i].isFinite { s.values[i] = 0 }
            return s
        }
    }

    /// Layer importance `imp(j)`; a layer that was never observed gets 1 (every layer counts alike).
    public var importance: [Double] {
        (0..<layers).map { importanceCount[$0] > 0 ? importanceSum[$0] / Double(importanceCount[$0]) : 1 }
    }

    /// Tokens observed per layer for the importance.
    public var importanceTokens: [Int] { importanceCount }
}
