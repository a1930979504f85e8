/// Errors reading a GGUF file; each case carries the offending value and where it was found.
public enum GGUFError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or mapped (`errno` text).
    case cannotOpen(path: String, reason: String)
    /// The first four bytes are not `GGUF`.
    case badMagic(UInt32)
    /// A version other than 2 or 3.
    case unsupportedVersion(UInt32)
    /// `need` bytes were required at `offset`, past the end of a file of `length` bytes.
    case truncated(offset: Int, need: Int, length: Int)
    /// A count or size field that cannot be right (`what` names it).
    case badCount(what: String, value: UInt64)
    /// A metadata value type id outside the GGUF specification.
    case badValueType(key: String, type: UInt32)
    /// Arrays nested deeper than the reader allows.
    case nestingTooDeep(key: String, depth: Int)
    /// The same metadata key twice.
    case duplicateKey(String)
    /// `general.alignment` is zero, not a power of two, or not an integer.
    case badAlignment(String)
    /// A tensor type id that is not a ggml type.
    case unknownTensorType(tensor: String, type: UInt32)
    /// A tensor's dimension count or dimensions are invalid.
    case badTensorShape(tensor: String, shape: [UInt64])
    /// A tensor's data offset is not a multiple of the alignment.
    case misalignedTensor(tensor: String, offset: UInt64, alignment: Int)
    /// A tensor's data reaches past the end of the file.
    case tensorOutOfBounds(tensor: String, offset: Int, bytes: Int, length: Int)
    /// Two tensors with the same name.
    case duplicateTensor(String)
    /// No tensor of that name.
    case missingTensor(String)
    /// Dequantisation of this ggml type is not implemented.
    case unsupportedTensorType(tensor: String, type: GGMLType)

    public var description: String {
        switch self {
        case .cannotOpen(let p, let r): return "cannot open GGUF file \(p): \(r)"
        case .badMagic(let m): return "not a GGUF file (magic 0x\(String(m, radix: 16)), expected 0x46554747 'GGUF')"
        case .unsupportedVersion(let v): return "unsupported GGUF version \(v) (supported: 2, 3)"
        case .truncated(let o, let n, let l): return "GGUF file truncated: \(n) bytes needed at offset \(o), file has \(l) bytes"
        case .badCount(let w, let v): return "GGUF file corrupt: \(w) = \(v) is impossible"
        case .badValueType(let k, let t): return "GGUF file corrupt: metadata key '\(k)' has unknown value type \(t)"
        case .nestingTooDeep(let k, let d): return "GGUF file corrupt: metadata key '\(k)' nests arrays \(d) deep"
        case .duplicateKey(let k): return "GGUF file corrupt: metadata key '\(k)' appears twice"
        case .badAlignment(let s): return "GGUF file corrupt: general.alignment \(s) is not a positive power of two"
        case .unknownTensorType(let t, let ty): return "GGUF file corrupt: tensor '\(t)' has unknown type id \(ty)"
        case .badTensorShape(let t, let s): return "GGUF file corrupt: tensor '\(t)' has invalid shape \(s)"
        case .misalignedTensor(let t, let o, let a): return "GGUF file corrupt: tensor '\(t)' data offset \(o) is not a multiple of the alignment \(a)"
        case .tensorOutOfBounds(let t, let o, let b, let l): return "GGUF file truncated: tensor '\(t)' needs bytes \(o)..<\(o + b), file has \(l) bytes"
        case .duplicateTensor(let t): return "GGUF file corrupt: tensor '\(t)' appears twice"
        case .missingTensor(let t): return "GGUF file has no tensor '\(t)'"
        case .unsupportedTensorType(let t, let ty): return "unsupported tensor type \(ty.name) in tensor \(t)"
        }
    }
}
