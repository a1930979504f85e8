import Foundation
import Testing
@testable import KascadeModel

/// Random Unicode text drawn from pools that stress the tokenizer: whitespace runs, digits of
/// several scripts, punctuation, controls, combining marks, CJK, emoji sequences, special tokens.
struct RandomText {
    var random: TestRandom

    /// Pools of scalar ranges; the last one (any scalar) only when `anyScalar` is set.
    static let pools: [[ClosedRange<UInt32>]] = [
        [0x61 ... 0x7A, 0x41 ... 0x5A],                  // ASCII letters
        [0x30 ... 0x39],                                  // digits
        [0x21 ... 0x2F, 0x3A ... 0x40, 0x5B ... 0x60, 0x7B ... 0x7E], // punctuation
        [0x20 ... 0x20, 0x20 ... 0x20, 0x09 ... 0x0D],    // spaces, tabs, newlines
        [0x00 ... 0x1F, 0x7F ... 0x9F],                   // C0 and C1 controls
        [0xA0 ... 0xFF, 0x100 ... 0x17F],                 // Latin-1, Latin Extended-A
        [0x300 ... 0x36F],                                // combining marks
        [0x391 ... 0x3C9, 0x410 ... 0x44F],               // Greek, Cyrillic
        [0x5D0 ... 0x5EA, 0x620 ... 0x64A, 0x660 ... 0x669], // Hebrew, Arabic, Arabic-Indic digits
        [0x905 ... 0x939, 0x93E ... 0x94D],               // Devanagari
        [0x4E00 ... 0x9FFF, 0x3041 ... 0x3096, 0xAC00 ... 0xD7A3, 0xFF10 ... 0xFF19], // CJK, kana, Hangul, fullwidth digits
        [0x1F300 ... 0x1FAFF, 0x1F3FB ... 0x1F3FF, 0x200D ... 0x200D, 0xFE0F ... 0xFE0F, 0x1F1E6 ... 0x1F1FF], // emoji
        [0x85 ... 0x85, 0xA0 ... 0xA0, 0x1680 ... 0x1680, 0x2000 ... 0x200A, 0x2028 ... 0x2029, 0x202F ... 0x202F, 0x3000 ... 0x3000], // Unicode spaces
        [0xB2 ... 0xB3, 0x2160 ... 0x216F, 0x2460 ... 0x2473], // other numbers
        [0 ... 0xD7FF, 0xE000 ... 0x10FFFF],             // any scalar
    ]

    static let fragments = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|im_", "<file_sep>", "'s", "'ll", "'re", " '", "  ", "\n\n", "\r\n"]

    /// A string of up to `maxParts` runs, each from one pool or one special fragment.
    mutating func next(maxParts: Int, anyScalar: Bool) -> String {
        var view = String.UnicodeScalarView()
        let parts = Int.random(in: 0 ... maxParts, using: &random)
        for _ in 0 ..< parts {
            if Int.random(in: 0 ..< 8, using: &random) == 0 {
                view.append(contentsOf: Self.fragments.randomElement(using: &random)!.unicodeScalars)
                continue
            }
            let pool = Self.pools[Int.random(in: 0 ..< Self.pools.count - (anyScalar ? 0 : 1), using: &random)]
            for _ in 0 ..< Int.random(in: 1 ... 6, using: &random) {
                let range = pool.randomElement(using: &random)!
                view.append(Unicode.Scalar(UInt32.random(in: range, using: &random))!)
            }
        }
        return String(view)
    }
}

@Suite("Tokenizer round trip")
struct TokenizerRoundTripTests {
    @Test("decoding the encoding gives back the exact bytes of random Unicode text", arguments: [1, 2, 3, 4] as [UInt64])
    func roundTrip(seed: UInt64) throws {
        let tokenizer = try DefaultTokenizer.get()
        let missing = Set(tokenizer.missingBytes)
        var text = RandomText(random: TestRandom(seed: seed))
        for _ in 0 ..< 150 {
            let s = text.next(maxParts: 24, anyScalar: true)
            let expected = Array(s.utf8).filter { !missing.contains($0) }
            for parseSpecial in [true, false] {
                let ids = tokenizer.encode(s, parseSpecial: parseSpecial)
                #expect(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize })
                let bytes = tokenizer.decodeBytes(ids)
                #expect(bytes == expected, "text: \(s.debugDescription) parseSpecial: \(parseSpecial)")
                if !parseSpecial {
                    #expect(ids.allSatisfy { tokenizer.tokenTypes[Int($0)] == BPETokenizer.TokenType.normal.rawValue })
                }
            }
        }
    }

    @Test("text made only of bytes with tokens round-trips to the identical string", arguments: [5, 6] as [UInt64])
    func exactString(seed: UInt64) throws {
        let tokenizer = try DefaultTokenizer.get()
        let missing = Set(tokenizer.missingBytes)
        var text = RandomText(random: TestRandom(seed: seed))
        var checked = 0
        while checked < 200 {
            let s = text.next(maxParts: 16, anyScalar: false)
            guard !s.utf8.contains(where: missing.contains) else { continue }
            checked += 1
            let decoded = tokenizer.decode(tokenizer.encode(s))
            #expect(Array(decoded.unicodeScalars) == Array(s.unicodeScalars), "text: \(s.debugDescription)")
        }
    }

    @Test("a long text encodes to fewer tokens than bytes and decodes exactly")
    func longText() throws {
        let tokenizer = try DefaultTokenizer.get()
        let license = try String(contentsOfFile: "/usr/share/common-licenses/GPL-2", encoding: .utf8)
        let ids = tokenizer.encode(license)
        #expect(ids.count * 3 < license.utf8.count)
        #expect(tokenizer.decodeBytes(ids) == Array(license.utf8))
    }
}
