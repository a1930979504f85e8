import Foundation
import Testing
@testable import KascadeModel

@Suite("BPE merges against a plain reference")
struct TokenizerMergeTests {
    /// Reference BPE: repeatedly merge the adjacent pair of lowest rank, the leftmost among equals.
    static func referenceBPE(_ word: [String], ranks: [String: Int]) -> [String] {
        var symbols = word
        while symbols.count > 1 {
            var best: (rank: Int, index: Int)?
            for i in 0 ..< symbols.count - 1 {
                if let rank = ranks[symbols[i] + " " + symbols[i + 1]], best == nil || rank < best!.rank {
                    best = (rank, i)
                }
            }
            guard let best else { break }
            symbols[best.index] += symbols[best.index + 1]
            symbols.remove(at: best.index + 1)
        }
        return symbols
    }

    @Test("random merge tables give the reference encoding of random words", arguments: [21, 22, 23, 24] as [UInt64])
    func syntheticTables(seed: UInt64) throws {
        var random = TestRandom(seed: seed)
        var tokens = ["a", "b", "c", "d", "e"]
        var merges: [String] = []
        for _ in 0 ..< 60 {
            let left = tokens.randomElement(using: &random)!, right = tokens.randomElement(using: &random)!
            guard left.count + right.count <= 6, !merges.contains(left + " " + right) else { continue }
            merges.append(left + " " + right)
            if !tokens.contains(left + right) { tokens.append(left + right) }
        }
        let tokenizer = try BPETokenizer(tokens: tokens, merges: merges, tokenTypes: [], bosID: nil, eosID: nil, preTokenizer: "gpt2")
        let ranks = Dictionary(uniqueKeysWithValues: merges.enumerated().map { ($1, $0) })
        for _ in 0 ..< 200 {
            let word = (0 ..< Int.random(in: 1 ... 30, using: &random)).map { _ in ["a", "b", "c", "d", "e"].randomElement(using: &random)! }
            let expected = Self.referenceBPE(word, ranks: ranks).map { Int32(tokens.firstIndex(of: $0)!) }
            #expect(tokenizer.encode(word.joined()) == expected, "word: \(word.joined())")
        }
    }

    @Test("the default model's merges give the reference encoding of random words", arguments: [31, 32] as [UInt64])
    func defaultModel(seed: UInt64) throws {
        let tokenizer = try DefaultTokenizer.get()
        let merges = try #require(DefaultTokenizer.file.get().stringArray("tokenizer.ggml.merges"))
        let ranks = Dictionary(merges.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var random = TestRandom(seed: seed)
        let letters = Array("abcdefghijklmnopqrstuvwxyzéü").map(String.init)
        for _ in 0 ..< 200 {
            let word = (0 ..< Int.random(in: 1 ... 24, using: &random)).map { _ in letters.randomElement(using: &random)! }.joined()
            let text = Bool.random(using: &random) ? " " + word : word
            let bytes = BPETokenizer.ByteAlphabet.encode(Array(text.utf8)).unicodeScalars.map { String($0) }
            let expected = Self.referenceBPE(bytes, ranks: ranks).map { tokenizer.id(of: $0)! }
            #expect(tokenizer.encode(text) == expected, "text: \(text)")
        }
    }

    @Test("rejects malformed and out-of-vocabulary merges with the rule")
    func badMerges() {
        #expect(throws: BPETokenizerError.malformedMerge(index: 0, rule: "ab")) {
            try BPETokenizer(tokens: ["a", "b", "ab"], merges: ["ab"], tokenTypes: [], bosID: nil, eosID: nil, preTokenizer: "gpt2")
        }
        #expect(throws: BPETokenizerError.mergeOutOfVocabulary(index: 1, rule: "b c")) {
            try BPETokenizer(tokens: ["a", "b", "ab"], merges: ["a b", "b c"], tokenTypes: [], bosID: nil, eosID: nil, preTokenizer: "gpt2")
        }
        #expect(throws: BPETokenizerError.tokenTypeCount(types: 1, tokens: 3)) {
            try BPETokenizer(tokens: ["a", "b", "ab"], merges: [], tokenTypes: [1], bosID: nil, eosID: nil, preTokenizer: "gpt2")
        }
        #expect(throws: BPETokenizerError.tokenIDOutOfRange(name: "EOS", id: 7, vocabularySize: 3)) {
            try BPETokenizer(tokens: ["a", "b", "ab"], merges: [], tokenTypes: [], bosID: nil, eosID: 7, preTokenizer: "gpt2")
        }
    }
}
