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

    /// Half-precision bits at `p` as float32.
    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int = 0) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }

    /// Expands `count` elements (a multiple of the type's block size) at `src` into `dst`.
    /// Precondition: `type.canDequantize`. The loops are written so the compiler vectorises them.
    public static func dequantize(type: GGMLType, from src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32:
            dst.update(from: src.assumingMemoryBound(to: Float.self), count: count)
        case .f16:
            for i in 0..<count { dst[i] = half(src, 2 * i) }
        case .bf16:
            let h = src.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { dst[i] = Float(bitPattern: UInt32(h[i]) << 16) }
        case .q8_0:
            for b in 0..<(count / 32) {
                let blk = src + 34 * b
                let d = half(blk)
                let q = (blk + 2).assumingMemoryBound(to: Int8.self)
                let o = dst + 32 * b
                for j in 0..<32 { o[j] = Float(q[j]) * d }
            }
        case .q4_0:
            for b in 0..<(count / 32) {
                let blk = src + 18 * b
                let d = half(blk)
                let q = (blk + 2).assumingMemoryBound(to: UInt8.self)
                let o = dst + 32 * b
                for j in 0..<16 {
                    o[j] = Float(Int32(q[j] & 0xF) - 8) * d
                    o[j + 16] = Float(Int32(q[j] >> 4) - 8) * d
                }
            }
        case .q4_1:
            for b in 0..<(count / 32) {
                let blk = src + 20 * b
                let d = half(blk), m = half(blk, 2)
                let q = (blk + 4).assumingMemoryBound(to: UInt8.self)
                let o = dst + 32 * b
                for j in 0..<16 {
                    o[j] = Float(q[j] & 0xF) * d + m
                    o[j + 16] = Float(q[j] >> 4) * d + m
                }
            }
        default:
            preconditionFailure("dequantize called for \(type.name)")
        }
    }
}
