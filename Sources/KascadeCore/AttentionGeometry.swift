/// Head layout of one attention layer: `H` query heads sharing `G` KV heads (GQA), head dim `d`.
public struct AttentionGeometry: Sendable, Hashable, Codable {
    /// Query heads `H`.
    public let queryHeads: Int
    /// Key/value heads `G`; `H` is a multiple of `G`.
    public let kvHeads: Int
    /// Head dimension `d`.
    public let headDim: Int

    /// Validates `H > 0`, `G > 0`, `d > 0` and `H % G == 0`.
    public init(queryHeads: Int, kvHeads: Int, headDim: Int) throws(AttentionError) {
        guard queryHeads > 0, kvHeads > 0, headDim > 0 else {
            throw .badShape("heads and head dim must be positive (H=\(queryHeads), G=\(kvHeads), d=\(headDim))")
        }
        guard queryHeads % kvHeads == 0 else {
            throw .badShape("query heads H=\(queryHeads) are not a multiple of KV heads G=\(kvHeads)")
        }
        self.queryHeads = queryHeads
        self.kvHeads = kvHeads
        self.headDim = headDim
    }

    /// GQA group size `g = H / G`.
    @inlinable public var groupSize: Int { queryHeads / kvHeads }
    /// Softmax scale `1 / sqrt(d)`.
    @inlinable public var scale: Float { 1 / Float(headDim).squareRoot() }
    /// KV head read by query head `h`.
    @inlinable public func kvHead(ofQueryHead h: Int) -> Int { h / groupSize }
}

/// Errors of the attention layer: each carries the offending value.
public enum AttentionError: Error, Equatable, CustomStringConvertible {
    case badShape(String)
    case badBudget(Double)
    case nonFinite(String)
    case badIndices(String)
    case badArgument(String)

    public var description: String {
        switch self {
        case .badShape(let s): return "shape error: \(s)"
        case .badBudget(let f): return "budget \(f) is outside (0, 1]"
        case .nonFinite(let s): return "non-finite value (NaN or Inf) in \(s)"
        case .badIndices(let s): return "bad indices: \(s)"
        case .badArgument(let s): return s
        }
    }
}
