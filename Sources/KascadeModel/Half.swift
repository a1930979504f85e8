/// IEEE half and bfloat16 conversion to float32.
public enum Half {
    /// Converts half-precision bits to `Float` exactly (normals, subnormals, infinities, NaN).
    @inlinable
    public static func toFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = UInt32(h >> 10) & 0x1F
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            // Zero or subnormal: mant * 2^-24.
            let v = Float(mant) * (1.0 / 16_777_216.0)
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
    }

    /// All 65536 half values as float32, indexed by their bits.
    public static let table: [Float] = (0...0xFFFF).map { toFloat(UInt16($0)) }

    /// Converts bfloat16 bits to `Float`.
    @inlinable
    public static func bf16ToFloat(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// Rounds a `Float` to the nearest half (ties to even), as bits; used by quantisers and writers.
    public static func fromFloat(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        if f.isNaN { return sign | 0x7E00 }
        let a = abs(f)
        if a >= 65520 { return sign | 0x7C00 }
        if a < 6.103515625e-05 {
            // Subnormal half: round a / 2^-24 to the nearest integer, ties to even.
            let q = (a * 16_777_216).rounded(.toNearestOrEven)
            return sign | UInt16(q)
        }
        let e = Int((bits >> 23) & 0xFF) - 127 + 15
        var m = bits & 0x7F_FFFF
        var exp = UInt32(e)
        // Round 23-bit mantissa to 10 bits, ties to even.
        let rest = m & 0x1FFF
        m >>= 13
        if rest > 0x1000 || (rest == 0x1000 && (m & 1) == 1) {
            m += 1
            if m == 0x400 { m = 0; exp += 1 }
        }
        return sign | UInt16(exp << 10) | UInt16(m)
    }
}
