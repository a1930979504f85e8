/// Why a tokenizer could not be built from a vocabulary.
public enum BPETokenizerError: Error, Equatable, CustomStringConvertible {
    /// A required GGUF metadata key is absent or has the wrong type.
    case missingMetadata(String)
    /// `tokenizer.ggml.model` names a tokenizer other than byte-level BPE (`gpt2`).
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a split this tokenizer does not implement.
    case unsupportedPreTokenizer(String)
    /// The vocabulary is empty.
    case emptyVocabulary
    /// `token_type` has a different length from the vocabulary.
    case tokenTypeCount(types: Int, tokens: Int)
    /// A merge rule is not two tokens separated by one space.
    case malformedMerge(index: Int, rule: String)
    /// A merge rule names a token, or produces one, that is not in the vocabulary.
    case mergeOutOfVocabulary(index: Int, rule: String)
    /// A special token id (BOS, EOS, ...) is outside the vocabulary.
    case tokenIDOutOfRange(name: String, id: Int64, vocabularySize: Int)

    /// One line naming the problem and the bad value.
    public var description: String {
        switch self {
        case .missingMetadata(let key): return "tokenizer metadata '\(key)' is missing or has the wrong type"
        case .unsupportedModel(let name): return "unsupported tokenizer model '\(name)' (only byte-level BPE 'gpt2' is implemented)"
        case .unsupportedPreTokenizer(let name):
            return "unsupported pre-tokenizer '\(name)' (implemented: \(PreTokenizer.Kind.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .emptyVocabulary: return "tokenizer vocabulary is empty"
        case .tokenTypeCount(let types, let tokens): return "tokenizer has \(types) token types for \(tokens) tokens"
        case .malformedMerge(let index, let rule): return "merge rule \(index) '\(rule)' is not two tokens separated by a space"
        case .mergeOutOfVocabulary(let index, let rule): return "merge rule \(index) '\(rule)' uses or makes a token outside the vocabulary"
        case .tokenIDOutOfRange(let name, let id, let size): return "\(name) token id \(id) is outside the vocabulary of \(size) tokens"
        }
    }
}
