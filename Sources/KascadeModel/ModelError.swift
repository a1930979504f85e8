/// Errors loading or running a model; each carries the offending value.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// `general.architecture` names a family this forward pass does not implement.
    case unsupportedArchitecture(String)
    /// A required metadata key is absent or has the wrong type.
    case missingMetadata(String)
    /// A hyper-parameter is impossible or unsupported (`what` names it).
    case badHyperparameter(what: String, value: String)
    /// A required tensor is absent.
    case missingTensor(String)
    /// A tensor's shape disagrees with the configuration (ggml order).
    case shapeMismatch(tensor: String, expected: [Int], got: [Int])
    /// A weight's element type cannot be used.
    case unsupportedTensorType(tensor: String, type: String)
    /// No tokens were given.
    case emptyPrompt
    /// The sequence would exceed the session's context.
    case contextOverflow(needed: Int, capacity: Int)
    /// A requested context is larger than the model's trained context.
    case contextTooLong(requested: Int, model: Int)
    /// A token id outside the vocabulary.
    case badToken(id: Int32, vocabulary: Int)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a): return "unsupported model architecture '\(a)' (supported: llama)"
        case .missingMetadata(let k): return "model file lacks metadata key '\(k)'"
        case .badHyperparameter(let w, let v): return "unsupported model hyper-parameter \(w) = \(v)"
        case .missingTensor(let t): return "model file lacks tensor '\(t)'"
        case .shapeMismatch(let t, let e, let g): return "tensor '\(t)' has shape \(g), expected \(e)"
        case .unsupportedTensorType(let t, let ty): return "unsupported tensor type \(ty) in tensor \(t)"
        case .emptyPrompt: return "the prompt is empty (no tokens)"
        case .contextOverflow(let n, let c): return "sequence of \(n) tokens exceeds the context of \(c) tokens"
        case .contextTooLong(let r, let m): return "requested context of \(r) tokens exceeds the model's context of \(m) tokens"
        case .badToken(let id, let v): return "token id \(id) is outside the vocabulary of \(v) tokens"
        }
    }
}
