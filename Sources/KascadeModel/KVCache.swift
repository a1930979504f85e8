import KascadeCore

/// Float32 key/value cache of every layer, allocated once: per layer `[G, capacity, d]` keys and values.
public final class KVCache: @unchecked Sendable {
    /// Positions reserved per head.
    public let capacity: Int
    /// Head layout.
    public let geometry: AttentionGeometry
    /// Layers.
    public let layers: Int
    private let keys: UnsafeMutablePointer<Float>
    private let values: UnsafeMutablePointer<Float>
    private let layerStride: Int

    /// Allocates `layers x G x capacity x d` keys and as many values (zeroed).
    public init(layers: Int, capacity: Int, geometry: AttentionGeometry) {
        self.capacity = capacity
        self.geometry = geometry
        self.layers = layers
        layerStride = geometry.kvHeads * capacity * geometry.headDim
        keys = .allocate(capacity: layers * layerStride)
        values = .allocate(capacity: layers * layerStride)
        keys.initialize(repeating: 0, count: layers * layerStride)
        values.initialize(repeating: 0, count: layers * layerStride)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes held.
    public var byteCount: Int { 2 * layers * layerStride * MemoryLayout<Float>.size }

    /// Key row of `layer`, KV head `g`, position `n` (`d` floats, writable).
    @inline(__always)
    public func keyRow(layer: Int, head g: Int, position n: Int) -> UnsafeMutablePointer<Float> {
        keys + layer * layerStride + (g * capacity + n) * geometry.headDim
    }

    /// Value row of `layer`, KV head `g`, position `n` (`d` floats, writable).
    @inline(__always)
    public func valueRow(layer: Int, head g: Int, position n: Int) -> UnsafeMutablePointer<Float> {
        values + layer * layerStride + (g * capacity + n) * geometry.headDim
    }

    /// Read-only view of `layer`'s first `length` positions.
    public func view(layer: Int, length: Int) -> KVCacheView {
        KVCacheView(keys: keys + layer * layerStride, values: values + layer * layerStride,
                    length: length, capacity: capacity, geometry: geometry)
    }
}
