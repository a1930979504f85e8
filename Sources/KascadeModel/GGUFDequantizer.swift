/// Expands ggml tensor data to float32: F32, F16, BF16, Q8_0, Q4_0 and Q4_1.
///
/// Block layouts (32 elements each): Q8_0 = f16 scale `d`, 32 x int8 `q`, `x = d q`;
/// Q4_0 = f16 `d`, 16 bytes, `x_j = d (lo4(b_j) - 8)`, `x_(j+16) = d (hi4(b_j) - 8)`;
/// Q4_1 = f16 `d`, f16 `m`, 16 bytes, `x_j = d lo4(b_j) + m`, `x_(j+16) = d hi4(b_j) + m`.
public enum GGUFDequantizer {
    /// Throws ``GGUFError/unsupportedTensorType(tensor:type:)`` unless `t`'s type can be expanded.
    public static func check(_ t: GGUFTensorInfo) throws {
        guard t.type.canDequantize else { throw GGUFError.unsupportedTensorType(tensor: t.name, type: t.type) }
    }

    /// Expands `count` elements (a multiple of the type's block size) at `src` into `dst`.
    /// Precondition: `type.canDequantize`.
    public static func dequantize(type: GGMLType, from src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32:
            for i in 0..<count { dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .f16:
            Half.table.withUnsafeBufferPointer { tab in
                for i in 0..<count { dst[i] = tab[Int(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))] }
            }
        case .bf16:
            for i in 0..<count { dst[i] = Half.bf16ToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .q8_0:
            for b in 0..<(count / 32) {
                let blk = src + 34 * b
                let d = Half.toFloat(UInt16(littleEndian: blk.loadUnaligned(as: UInt16.self)))
                let q = (blk + 2).assumingMemoryBound(to: Int8.self)
                for j in 0..<32 { dst[32 * b + j] = d * Float(q[j]) }
            }
        case .q4_0:
            for b in 0..<(count / 32) {
                let blk = src + 18 * b
                let d = Half.toFloat(UInt16(littleEndian: blk.loadUnaligned(as: UInt16.self)))
                let q = (blk + 2).assumingMemoryBound(to: UInt8.self)
                for j in 0..<16 {
                    dst[32 * b + j] = d * Float(Int(q[j] & 0xF) - 8)
                    dst[32 * b + j + 16] = d * Float(Int(q[j] >> 4) - 8)
                }
            }
        case .q4_1:
            for b in 0..<(count / 32) {
                let blk = src + 20 * b
                let d = Half.toFloat(UInt16(littleEndian: blk.loadUnaligned(as: UInt16.self)))
                let m = Half.toFloat(UInt16(littleEndian: blk.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
                let q = (blk + 4).assumingMemoryBound(to: UInt8.self)
                for j in 0..<16 {
                    dst[32 * b + j] = d * Float(q[j] & 0xF) + m
                    dst[32 * b + j + 16] = d * Float(q[j] >> 4) + m
                }
            }
        default:
            preconditionFailure("dequantize called for \(type.name)")
        }
    }
}
