/// Head-level anchor similarity `S[i, j][h2, h1]` (`i <= j`): how much of reuse head `(j, h2)`'s
/// attention mass anchor head `(i, h1)`'s top-k captures, relative to `(j, h2)`'s own top-k.
/// Layout `[L, L, G, G]`, row-major; entries with `i > j` are unused (0).
public struct SimilarityTensor: Sendable, Equatable, Codable {
    /// Layers `L`.
    public let layers: Int
    /// KV heads `G`.
    public let heads: Int
    /// `[L, L, G, G]` values.
    public var values: [Double]

    /// A zero tensor.
    public init(layers: Int, heads: Int) {
        self.layers = layers
        self.heads = heads
        values = [Double](repeating: 0, count: layers * layers * heads * heads)
    }

    /// Flat offset of `(i, j, h2, h1)`.
    @inlinable public func offset(_ i: Int, _ j: Int, _ h2: Int, _ h1: Int) -> Int {
        ((i * layers + j) * heads + h2) * heads + h1
    }

    /// `S[i, j][h2, h1]`.
    public subscript(_ i: Int, _ j: Int, _ h2: Int, _ h1: Int) -> Double {
        get { values[offset(i, j, h2, h1)] }
        set { values[offset(i, j, h2, h1)] = newValue }
    }
}
