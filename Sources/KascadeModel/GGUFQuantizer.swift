/// Encodes float32 values in ggml formats (round to nearest, as ggml's reference quantisers).
///
/// Q8_0: `d = amax / 127`, `q = round(x / d)`. Q4_0: `d = max / -8` where `max` is the value of
/// largest magnitude, `q = min(15, trunc(x / d + 8.5))`. Q4_1: `d = (max - min) / 15`, `m = min`,
/// `q = min(15, trunc((x - min) / d + 0.5))`.
public enum GGUFQuantizer {
    /// `values` (a multiple of 32 for the block types) encoded as `type`'s bytes.
    public static func encode(_ values: [Float], as type: GGMLType) -> [UInt8] {
        var out: [UInt8] = []
        func f16(_ f: Float) { withUnsafeBytes(of: Half.fromFloat(f).littleEndian) { out.append(contentsOf: $0) } }
        switch type {
        case .f32:
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        case .f16:
            for v in values { f16(v) }
        case .bf16:
            for v in values {
                // Round to nearest even on the dropped 16 bits.
                let b = v.bitPattern
                let r = v.isNaN ? (b >> 16) | 0x40 : (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16
                withUnsafeBytes(of: UInt16(r).littleEndian) { out.append(contentsOf: $0) }
            }
        case .q8_0:
            for blk in stride(from: 0, to: values.count, by: 32) {
                let x = values[blk..<blk + 32]
                let amax = x.map(abs).max() ?? 0
                let d = amax / 127
                let id: Float = d != 0 ? 1 / d : 0
                f16(d)
                for v in x { out.append(UInt8(bitPattern: Int8((v * id).rounded()))) }
            }
        case .q4_0:
            for blk in stride(from: 0, to: values.count, by: 32) {
                let x = Array(values[blk..<blk + 32])
                var maxv: Float = 0, amax: Float = 0
                for v in x where abs(v) > amax { amax = abs(v); maxv = v }
                let d = maxv / -8
                let id: Float = d != 0 ? 1 / d : 0
                f16(d)
                for j in 0..<16 {
                    let a = UInt8(min(15, Int8(x[j] * id + 8.5)))
                    let b = UInt8(min(15, Int8(x[j + 16] * id + 8.5)))
                    out.append(a | (b << 4))
                }
            }
        case .q4_1:
            for blk in stride(from: 0, to: values.count, by: 32) {
                let x = Array(values[blk..<blk + 32])
                let lo = x.min() ?? 0, hi = x.max() ?? 0
                let d = (hi - lo) / 15
                let id: Float = d != 0 ? 1 / d : 0
                f16(d)
                f16(lo)
                for j in 0..<16 {
                    let a = UInt8(min(15, Int8((x[j] - lo) * id + 0.5)))
                    let b = UInt8(min(15, Int8((x[j + 16] - lo) * id + 0.5)))
                    out.append(a | (b << 4))
                }
            }
        default:
            preconditionFailure("no encoder for \(type.name)")
        }
        return out
    }
}
