/// One kernel argument, passed by value.
public enum KernelArg {
    /// Device address.
    case pointer(UInt64)
    /// Null device pointer.
    case null
    /// 32-bit integer.
    case int32(Int32)
    /// 64-bit integer.
    case int64(Int64)
    /// 32-bit float.
    case float(Float)

    var bits: UInt64 {
        switch self {
        case .pointer(let p): return p
        case .null: return 0
        case .int32(let v): return UInt64(UInt32(bitPattern: v))
        case .int64(let v): return UInt64(bitPattern: v)
        case .float(let f): return UInt64(f.bitPattern)
        }
    }
}
