/// A weight matrix `[rows, cols]` (row-major, each row `cols` elements of one ggml type) read in
/// place from the mapped model file; rows are expanded to float32 only inside the multiply loops.
public struct WeightMatrix: @unchecked Sendable {
    /// First byte of row 0 (inside a ``GGUFFile`` that must outlive this value).
    public let base: UnsafeRawPointer
    /// Element type.
    public let type: GGMLType
    /// Output features.
    public let rows: Int
    /// Input features (a multiple of the type's block size).
    public let cols: Int
    /// Bytes per row.
    public let rowBytes: Int
    /// Tensor name, for errors.
    public let name: String

    /// The tensor `info` of `file` as a matrix; `shape[0]` is `cols`, the rest are rows.
    public init(file: GGUFFile, info: GGUFTensorInfo) throws {
        guard info.type.canDequantize else {
            throw ModelError.unsupportedTensorType(tensor: info.name, type: info.type.name)
        }
        base = file.storage.base + info.fileOffset
        type = info.type
        cols = info.shape[0]
        rows = info.rowCount
        rowBytes = info.rowBytes
        name = info.name
    }

    /// Expands rows `r0 ..< r0 + count` into `out`, `[count, cols]` row-major.
    @inline(__always)
    public func dequantizeRows(_ r0: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        GGUFDequantizer.dequantize(type: type, from: base + r0 * rowBytes, count: count * cols, into: out)
    }
}
