/// Read-only view of one layer's key/value cache, float32.
///
/// Layout: `keys[(g * capacity + n) * headDim + i]` for KV head `g`, position `n < length`,
/// dimension `i`; `values` likewise. The memory belongs to the caller and must outlive the view's use.
public struct KVCacheView: @unchecked Sendable {
    /// Keys, `[G, capacity, d]`.
    public let keys: UnsafePointer<Float>
    /// Values, `[G, capacity, d]`.
    public let values: UnsafePointer<Float>
    /// Valid positions `N`.
    public let length: Int
    /// Positions reserved per head (row stride between heads, in positions).
    public let capacity: Int
    /// Head layout of the layer.
    public let geometry: AttentionGeometry

    /// Creates a view; `length <= capacity`.
    public init(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, length: Int, capacity: Int, geometry: AttentionGeometry) {
        precondition(length >= 0 && length <= capacity, "KV length \(length) exceeds capacity \(capacity)")
        self.keys = keys
        self.values = values
        self.length = length
        self.capacity = capacity
        self.geometry = geometry
    }

    /// Key row of KV head `g` at position `n`, `d` floats.
    @inlinable public func key(_ g: Int, _ n: Int) -> UnsafePointer<Float> {
        keys + (g * capacity + n) * geometry.headDim
    }

    /// Value row of KV head `g` at position `n`, `d` floats.
    @inlinable public func value(_ g: Int, _ n: Int) -> UnsafePointer<Float> {
        values + (g * capacity + n) * geometry.headDim
    }
}
