/// Host-side conversions between float32 and the GPU's 16-bit element types.
public enum HalfPrecision {
    /// The 16-bit pattern of `x` in `dtype`, rounded to nearest even.
    @inlinable
    public static func bits(_ x: Float, _ dtype: KVDType) -> UInt16 {
        switch dtype {
        case .bf16:
            let u = x.bitPattern
            if x.isNaN { return 0x7fc0 }
            let r = u &+ 0x7fff &+ ((u >> 16) & 1)
            return UInt16(truncatingIfNeeded: r >> 16)
        case .fp16:
            return Float16(x).bitPattern
        }
    }

    /// The float32 value of a 16-bit pattern of `dtype`.
    @inlinable
    public static func value(_ b: UInt16, _ dtype: KVDType) -> Float {
        switch dtype {
        case .bf16: return Float(bitPattern: UInt32(b) << 16)
        case .fp16: return Float(Float16(bitPattern: b))
        }
    }

    /// Rounds `values` through `dtype`: the 16-bit patterns and the float32 values they stand for.
    public static func round(_ values: [Float], _ dtype: KVDType) -> (bits: [UInt16], values: [Float]) {
        let b = values.map { bits($0, dtype) }
        return (b, b.map { value($0, dtype) })
    }
}
