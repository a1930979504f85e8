import Foundation
import Testing
@testable import KascadeModel

@Suite("Pre-tokenizer against a regex engine")
struct TokenizerPreTokenizerTests {
    /// Oniguruma's `\s` (the regex engine of the `tokenizers` reference), spelled for ICU.
    static let space = #"[\x{9}-\x{D}\x{85}\p{Z}]"#
    static let nonSpace = #"[^\x{9}-\x{D}\x{85}\p{Z}]"#
    static let gpt2 = try! NSRegularExpression(pattern:
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\x{9}-\x{D}\x{85}\p{Z}\p{L}\p{N}]+|"#
        + "\(space)+(?!\(nonSpace))|\(space)+")
    static let number = try! NSRegularExpression(pattern: #"\p{N}"#)

    /// All matches of `regex` in `text`, in order, as substrings (they tile the text).
    static func matches(_ regex: NSRegularExpression, _ text: String) -> [String] {
        let ns = text as NSString
        return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) }
    }

    /// The smollm split done with regexes: every `\p{N}` alone, the GPT-2 regex on the runs between.
    static func referenceSmollm(_ text: String) -> [String] {
        let ns = text as NSString
        var pieces: [String] = []
        var start = 0
        for m in number.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            if m.range.location > start {
                pieces += matches(gpt2, ns.substring(with: NSRange(location: start, length: m.range.location - start)))
            }
            pieces.append(ns.substring(with: m.range))
            start = m.range.location + m.range.length
        }
        if start < ns.length { pieces += matches(gpt2, ns.substring(from: start)) }
        return pieces
    }

    @Test("splits like the regexes on random text", arguments: [PreTokenizer.Kind.gpt2, .smollm], [11, 12, 13] as [UInt64])
    func randomText(kind: PreTokenizer.Kind, seed: UInt64) {
        let splitter = PreTokenizer(kind: kind)
        var text = RandomText(random: TestRandom(seed: seed))
        for _ in 0 ..< 300 {
            let s = text.next(maxParts: 20, anyScalar: false)
            let expected = kind == .gpt2 ? Self.matches(Self.gpt2, s) : Self.referenceSmollm(s)
            let pieces = splitter.split(s)
            // Compare scalar by scalar: String equality would merge canonically equivalent pieces.
            #expect(pieces.map { Array($0.unicodeScalars) } == expected.map { Array($0.unicodeScalars) }, "text: \(s.debugDescription)")
        }
    }

    @Test("isolates digits and keeps the space before a word", arguments: [
        ("in 2024 we", ["in", " ", "2", "0", "2", "4", " we"]),
        ("a  b\n\nc ", ["a", " ", " b", "\n", "\n", "c", " "]),
        ("it's 'sup", ["it", "'s", " '", "sup"]),
    ])
    func examples(text: String, pieces: [String]) {
        #expect(PreTokenizer(kind: .smollm).split(text) == pieces)
    }

    @Test("names the unsupported pre-tokenizer")
    func unsupported() {
        #expect(throws: BPETokenizerError.unsupportedPreTokenizer("llama-bpe")) { try PreTokenizer(name: "llama-bpe") }
    }
}
