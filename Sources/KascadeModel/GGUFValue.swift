/// One GGUF metadata value; arrays may nest.
public indirect enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16)
    case uint32(UInt32), int32(Int32), uint64(UInt64), int64(Int64)
    case float32(Float), float64(Double)
    case bool(Bool), string(String), array([GGUFValue])

    /// The value as an `Int` when it is an integer that fits (bools are not integers).
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// The value as a `Double` when it is numeric.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return intValue.map(Double.init)
        }
    }

    /// The string, when this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The elements, when this is an array.
    public var arrayValue: [GGUFValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// GGUF type name (`u32`, `str`, `arr[str,49152]`, ...).
    public var typeName: String {
        switch self {
        case .uint8: return "u8"
        case .int8: return "i8"
        case .uint16: return "u16"
        case .int16: return "i16"
        case .uint32: return "u32"
        case .int32: return "i32"
        case .uint64: return "u64"
        case .int64: return "i64"
        case .float32: return "f32"
        case .float64: return "f64"
        case .bool: return "bool"
        case .string: return "str"
        case .array(let a): return "arr[\(a.first?.typeName ?? "?"),\(a.count)]"
        }
    }

    /// Short human-readable rendering; arrays show their first `limit` elements.
    public func summary(limit: Int = 8) -> String {
        switch self {
        case .uint8(let v): return "\(v)"
        case .int8(let v): return "\(v)"
        case .uint16(let v): return "\(v)"
        case .int16(let v): return "\(v)"
        case .uint32(let v): return "\(v)"
        case .int32(let v): return "\(v)"
        case .uint64(let v): return "\(v)"
        case .int64(let v): return "\(v)"
        case .float32(let v): return "\(v)"
        case .float64(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        case .string(let s):
            let flat = s.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n")
            return flat.count > 80 ? "\"" + flat.prefix(77) + "...\"" : "\"\(flat)\""
        case .array(let a):
            let head = a.prefix(limit).map { $0.summary(limit: limit) }.joined(separator: ", ")
            return "[" + head + (a.count > limit ? ", ... (\(a.count) total)" : "") + "]"
        }
    }
}
