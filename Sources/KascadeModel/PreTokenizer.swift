/// Splits text into the pieces that byte-level BPE merges within (GGUF `tokenizer.ggml.pre`).
///
/// `gpt2` is the GPT-2 split, written out by hand instead of with a regex engine:
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, alternatives
/// tried in that order at each position. `smollm` first isolates every numeric scalar (`\p{N}`,
/// one piece each) and then applies the GPT-2 split to the runs in between, so a space before a
/// digit stays a piece of its own. `\s` is the Unicode `White_Space` property, `\p{L}` and `\p{N}`
/// the letter and number general categories. Pieces never straddle scalars; their concatenation
/// is the input.
public struct PreTokenizer: Sendable, Hashable {
    /// The split rules a GGUF file can name.
    public enum Kind: String, Sendable, CaseIterable {
        /// The GPT-2 regex alone.
        case gpt2
        /// Each digit alone, then the GPT-2 regex (SmolLM, SmolLM2).
        case smollm
    }

    /// The rules in use.
    public let kind: Kind

    /// Split rules of `kind`.
    public init(kind: Kind) { self.kind = kind }

    /// Split rules named as in GGUF `tokenizer.ggml.pre`; throws `BPETokenizerError.unsupportedPreTokenizer`.
    public init(name: String) throws {
        switch name {
        case "smollm": kind = .smollm
        case "gpt2", "default", "gpt-2": kind = .gpt2
        default: throw BPETokenizerError.unsupportedPreTokenizer(name)
        }
    }

    /// The pieces of `text`, in order; they concatenate back to `text`.
    public func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var view = String.UnicodeScalarView()
        return pieces(of: scalars[...]).map { range in
            view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[range])
            return String(view)
        }
    }

    /// Ranges of `scalars` (in its own indices), one per piece, in order and covering it.
    func pieces(of scalars: ArraySlice<Unicode.Scalar>) -> [Range<Int>] {
        var result: [Range<Int>] = []
        result.reserveCapacity(scalars.count / 3 + 1)
        switch kind {
        case .gpt2:
            Self.splitGPT2(scalars, scalars.startIndex, scalars.endIndex, into: &result)
        case .smollm:
            var runStart = scalars.startIndex
            for i in scalars.indices where ScalarClass(scalars[i]) == .number {
                Self.splitGPT2(scalars, runStart, i, into: &result)
                result.append(i ..< i + 1)
                runStart = i + 1
            }
            Self.splitGPT2(scalars, runStart, scalars.endIndex, into: &result)
        }
        return result
    }

    /// The GPT-2 split of `scalars[start ..< end]`, as if that range were the whole string.
    private static func splitGPT2(_ s: ArraySlice<Unicode.Scalar>, _ start: Int, _ end: Int,
                                  into result: inout [Range<Int>]) {
        var i = start
        while i < end {
            let length = matchLength(s, i, end)
            result.append(i ..< i + length)
            i += length
        }
    }

    /// Length in scalars of the GPT-2 match at `i` (always at least 1 when `i < end`).
    private static func matchLength(_ s: ArraySlice<Unicode.Scalar>, _ i: Int, _ end: Int) -> Int {
        let first = s[i]
        // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive)
        if first == "'" && i + 1 < end {
            switch s[i + 1] {
            case "s", "t", "m", "d": return 2
            case "r", "v":
                if i + 2 < end && s[i + 2] == "e" { return 3 }
            case "l":
                if i + 2 < end && s[i + 2] == "l" { return 3 }
            default: break
            }
        }
        //  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+
        let bodyStart = (first == " " && i + 1 < end) ? i + 1 : i
        let bodyClass = ScalarClass(s[bodyStart])
        if bodyClass != .space {
            var j = bodyStart + 1
            while j < end && ScalarClass(s[j]) == bodyClass { j += 1 }
            return j - i
        }
        // \s+(?!\S) | \s+  (here s[i] is white space: a lone space before a space, or any space)
        var j = i + 1
        while j < end && ScalarClass(s[j]) == .space { j += 1 }
        if j == end || j - i == 1 { return j - i }
        return j - i - 1
    }
}

/// The four scalar classes the GPT-2 split distinguishes.
enum ScalarClass: UInt8 {
    case letter, number, space, other

    /// Class of `scalar`: `White_Space`, else general category letter or number, else other.
    init(_ scalar: Unicode.Scalar) {
        let v = scalar.value
        if v < 0x80 {
            switch v {
            case 0x41 ... 0x5A, 0x61 ... 0x7A: self = .letter
            case 0x30 ... 0x39: self = .number
            case 0x09 ... 0x0D, 0x20: self = .space
            default: self = .other
            }
            return
        }
        let properties = scalar.properties
        if properties.isWhitespace { self = .space; return }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            self = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            self = .number
        default:
            self = .other
        }
    }
}
