/// A dense tensor in host memory with an explicit shape, C order (last axis fastest).
///
/// Attention tensors use `[B, H, T, d]` for queries/outputs, `[B, G, N, d]` for keys/values and
/// `[B, G, rows, k]` (int32) for index lists.
public struct HostTensor<Scalar: Numeric & Sendable>: Sendable, Equatable where Scalar: Equatable {
    /// Extent of each axis.
    public let shape: [Int]
    /// Elements in C order, `shape.reduce(1, *)` of them.
    public var scalars: [Scalar]

    /// Wraps `scalars` with `shape`; throws when the counts disagree or an extent is negative.
    public init(shape: [Int], scalars: [Scalar]) throws(AttentionError) {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw .badShape("negative extent in \(shape)") }
        let count = shape.reduce(1, *)
        guard count == scalars.count else {
            throw .badShape("shape \(shape) holds \(count) elements, got \(scalars.count)")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Scalar) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in \(shape)")
        self.shape = shape
        self.scalars = [Scalar](repeating: value, count: shape.reduce(1, *))
    }

    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { scalars.count }

    /// Flat C-order offset of a multi-index (one entry per axis).
    @inlinable public func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) does not match shape \(shape)")
        var o = 0
        for (i, n) in zip(index, shape) {
            precondition(i >= 0 && i < n, "index \(index) outside shape \(shape)")
            o = o * n + i
        }
        return o
    }

    /// Element at a multi-index.
    public subscript(_ index: Int...) -> Scalar {
        get { scalars[offset(index)] }
        set { scalars[offset(index)] = newValue }
    }

    /// Throws unless the tensor has rank 4; returns `(B, heads, rows, cols)`.
    public func dims4(_ what: String) throws(AttentionError) -> (Int, Int, Int, Int) {
        guard shape.count == 4 else { throw .badShape("\(what) must have 4 axes, got shape \(shape)") }
        return (shape[0], shape[1], shape[2], shape[3])
    }
}

extension HostTensor where Scalar: BinaryFloatingPoint {
    /// Throws ``AttentionError/nonFinite(_:)`` naming `what` and the first bad position.
    public func requireFinite(_ what: String) throws(AttentionError) {
        if let i = scalars.firstIndex(where: { !$0.isFinite }) {
            throw .nonFinite("\(what) at flat index \(i) (value \(scalars[i]))")
        }
    }
}
