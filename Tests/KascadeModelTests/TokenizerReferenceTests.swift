import Foundation
import Testing
@testable import KascadeModel

/// The default model's tokenizer, loaded once for all tokenizer tests (the model must be installed).
enum DefaultTokenizer {
    /// The model file found by `ModelLocator` without installing, or the error saying how to install it.
    static let file: Result<GGUFFile, Error> = Result {
        try GGUFFile(path: ModelLocator.resolve(explicit: nil, install: false, log: { _ in }))
    }
    private static let loaded: Result<BPETokenizer, Error> = file.flatMap { gguf in Result { try BPETokenizer(gguf: gguf) } }

    /// The tokenizer, or the error that the model is missing (with the command that installs it).
    static func get() throws -> BPETokenizer { try loaded.get() }
}

@Suite("Tokenizer against the tokenizers reference")
struct TokenizerReferenceTests {
    @Test("encodes fixed strings to the reference ids", arguments: TokenizerReferenceData.cases.indices)
    func matchesReference(index: Int) throws {
        let tokenizer = try DefaultTokenizer.get()
        let (text, expected) = TokenizerReferenceData.cases[index]
        #expect(tokenizer.encode(text) == expected, "text: \(text.debugDescription)")
    }

    @Test("decodes the reference ids back to the text's bytes", arguments: TokenizerReferenceData.cases.indices)
    func decodesReference(index: Int) throws {
        let tokenizer = try DefaultTokenizer.get()
        let (text, ids) = TokenizerReferenceData.cases[index]
        let missing = Set(tokenizer.missingBytes)
        #expect(tokenizer.decodeBytes(ids) == Array(text.utf8).filter { !missing.contains($0) })
    }

    @Test("reads the vocabulary, special ids and pre-tokenizer from the GGUF file")
    func readsMetadata() throws {
        let tokenizer = try DefaultTokenizer.get()
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.bosID == 1 && tokenizer.eosID == 2)
        #expect(tokenizer.preTokenizer.kind == .smollm)
        #expect(tokenizer.isEndOfGeneration(2) && tokenizer.isEndOfGeneration(0) && !tokenizer.isEndOfGeneration(1))
        #expect(tokenizer.id(of: "<|im_start|>") == 1)
        // Bytes whose byte-alphabet token is absent from the vocabulary.
        #expect(tokenizer.missingBytes == [0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xC0, 0xC1, 0xF1, 0xF2] + Array(0xF5 ... 0xFF))
    }

    @Test("special tokens in text stay text when special parsing is off")
    func specialAsText() throws {
        let tokenizer = try DefaultTokenizer.get()
        let text = "<|im_start|>user\nhi<|im_end|>"
        let plain = tokenizer.encode(text, parseSpecial: false)
        #expect(!plain.contains(1) && !plain.contains(2))
        #expect(tokenizer.decodeBytes(plain) == Array(text.utf8))
        #expect(tokenizer.encode(text).first == 1 && tokenizer.encode(text).last == 2)
    }
}
