/// Where one tensor lives in a GGUF file and what it holds.
public struct GGUFTensorInfo: Sendable, Hashable {
    /// Tensor name (`blk.0.attn_q.weight`).
    public let name: String
    /// Dimensions in ggml order: `shape[0]` is the innermost (contiguous) one.
    public let shape: [Int]
    /// Element type.
    public let type: GGMLType
    /// Absolute byte offset of the tensor's data in the file.
    public let fileOffset: Int
    /// Bytes of data.
    public let byteCount: Int

    /// Number of elements (product of `shape`).
    public var elementCount: Int { shape.reduce(1, *) }
    /// Rows when seen as a matrix `[rows, shape[0]]` (product of the outer dimensions).
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }
    /// Bytes of one row of `shape[0]` elements.
    public var rowBytes: Int { shape.isEmpty ? 0 : shape[0] / type.blockElements * type.blockBytes }
}
