/// Errors reading or writing NumPy `.npy` files; each carries the offending value.
public enum NPYError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read.
    case io(path: String, reason: String)
    /// The first bytes are not `\x93NUMPY`.
    case badMagic
    /// A format version other than 1, 2 or 3.
    case unsupportedVersion(major: UInt8)
    /// The file ends before the header or the data does (`expected` bytes, `actual` present).
    case truncated(expected: Int, actual: Int)
    /// The header dictionary could not be parsed.
    case malformedHeader(String)
    /// Arrays stored in Fortran order are refused.
    case fortranOrder
    /// A dtype other than `<f4`, `<f2`, `<i4`.
    case unsupportedDType(String)
    /// A dtype that does not fit what the caller asked for.
    case wrongDType(found: String, expected: String)
    /// Bytes after the data.
    case trailingBytes(Int)

    public var description: String {
        switch self {
        case .io(let path, let reason): return "cannot access \(path): \(reason)"
        case .badMagic: return "not a .npy file (bad magic bytes)"
        case .unsupportedVersion(let v): return "unsupported .npy format version \(v)"
        case .truncated(let e, let a): return "truncated .npy file: needs \(e) bytes, has \(a)"
        case .malformedHeader(let s): return "malformed .npy header: \(s)"
        case .fortranOrder: return "Fortran-ordered .npy arrays are not supported (save with C order)"
        case .unsupportedDType(let d): return "unsupported .npy dtype '\(d)' (float32, float16 or int32 only)"
        case .wrongDType(let f, let e): return ".npy dtype '\(f)' where \(e) was expected"
        case .trailingBytes(let n): return "malformed .npy file: \(n) bytes after the data"
        }
    }
}
