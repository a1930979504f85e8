/// GPT-2 byte-level BPE tokenizer (the `gpt2` tokenizer model of GGUF files).
///
/// Encoding: control and user-defined tokens written in the text are recognised first (longest
/// match, left to right); the text between them is split by the `PreTokenizer`, every piece is
/// turned into its UTF-8 bytes, each byte into its byte-alphabet token, and the ranked merges are
/// applied lowest rank first (leftmost among equals). No BOS is added. A byte that has no token in
/// the vocabulary (the default model lacks 21 of the 256, such as U+0004 and the lead bytes 0xF1,
/// 0xF2) is dropped, as the `tokenizers` reference does; `missingBytes` lists them.
/// Decoding maps tokens back to their exact bytes; control tokens decode to their own text.
public final class BPETokenizer: Sendable {
    /// GGUF `token_type` values.
    public enum TokenType: Int32, Sendable {
        /// Unset.
        case undefined = 0
        /// Ordinary vocabulary entry, spelled in the byte alphabet.
        case normal = 1
        /// The unknown token.
        case unknown = 2
        /// Control token (`<|im_start|>`): recognised in text, never made by merges.
        case control = 3
        /// User-defined token: recognised in text like control tokens.
        case userDefined = 4
        /// Unused slot.
        case unused = 5
        /// A raw byte written `<0xAB>`.
        case byte = 6
    }

    /// Token texts as stored in the vocabulary, indexed by id.
    public let tokens: [String]
    /// `TokenType` raw values, indexed by id.
    public let tokenTypes: [Int32]
    /// Beginning-of-sequence token, if the model has one.
    public let bosID: Int32?
    /// End-of-sequence token, if the model has one.
    public let eosID: Int32?
    /// Tokens that end a generation: EOS, `<|im_end|>`, `<|endoftext|>` and the like.
    public let endOfGenerationIDs: Set<Int32>
    /// How text is split before merging.
    public let preTokenizer: PreTokenizer
    /// Bytes without a token of their own; `encode` drops them.
    public let missingBytes: [UInt8]

    private let idOfToken: [String: Int32]
    private let byteTokenIDs: [Int32]
    private let mergeTable: MergeTable
    private let specialTokens: SpecialTokenMatcher
    private let decodedBytes: [UInt8]
    private let decodedOffsets: [Int]

    /// Number of tokens in the vocabulary.
    public var vocabularySize: Int { tokens.count }

    /// A tokenizer from GGUF-style tables.
    /// - Parameters:
    ///   - tokens: token texts, index = id, normal tokens spelled in the GPT-2 byte alphabet.
    ///   - merges: merge rules `"left right"`, index = rank (lower merges first).
    ///   - tokenTypes: `TokenType` raw value per token (empty: all normal).
    ///   - bosID: beginning-of-sequence id, or nil.
    ///   - eosID: end-of-sequence id, or nil.
    ///   - preTokenizer: GGUF `tokenizer.ggml.pre` name (`smollm`, `gpt2`).
    ///   - endOfGeneration: more ids that end a generation (e.g. GGUF `eot_token_id`).
    public init(tokens: [String], merges: [String], tokenTypes: [Int32], bosID: Int32?, eosID: Int32?,
                preTokenizer: String, endOfGeneration: [Int32] = []) throws {
        guard !tokens.isEmpty else { throw BPETokenizerError.emptyVocabulary }
        guard tokenTypes.isEmpty || tokenTypes.count == tokens.count else {
            throw BPETokenizerError.tokenTypeCount(types: tokenTypes.count, tokens: tokens.count)
        }
        for (name, id) in [("BOS", bosID), ("EOS", eosID)] + endOfGeneration.map({ ("end-of-generation", $0) }) {
            if let id, id < 0 || Int(id) >= tokens.count {
                throw BPETokenizerError.tokenIDOutOfRange(name: name, id: Int64(id), vocabularySize: tokens.count)
            }
        }
        self.preTokenizer = try PreTokenizer(name: preTokenizer)
        self.tokens = tokens
        self.tokenTypes = tokenTypes.isEmpty ? Array(repeating: TokenType.normal.rawValue, count: tokens.count) : tokenTypes
        self.bosID = bosID
        self.eosID = eosID

        var idOfToken: [String: Int32] = [:]
        idOfToken.reserveCapacity(tokens.count)
        for (id, text) in tokens.enumerated() where idOfToken[text] == nil { idOfToken[text] = Int32(id) }
        self.idOfToken = idOfToken

        var byteTokenIDs = [Int32](repeating: -1, count: 256)
        for byte in 0 ..< 256 {
            let spelled = ByteAlphabet.encode([UInt8(byte)])
            if let id = idOfToken[spelled], Self.isMergeable(self.tokenTypes[Int(id)]) { byteTokenIDs[byte] = id }
        }
        self.byteTokenIDs = byteTokenIDs
        missingBytes = (0 ..< 256).filter { byteTokenIDs[$0] < 0 }.map { UInt8($0) }

        var ranked: [(left: Int32, right: Int32, merged: Int32)] = []
        ranked.reserveCapacity(merges.count)
        for (index, rule) in merges.enumerated() {
            guard let space = rule.firstIndex(of: " ") else { throw BPETokenizerError.malformedMerge(index: index, rule: rule) }
            let left = String(rule[..<space]), right = String(rule[rule.index(after: space)...])
            guard !left.isEmpty, !right.isEmpty else { throw BPETokenizerError.malformedMerge(index: index, rule: rule) }
            guard let l = idOfToken[left], let r = idOfToken[right], let m = idOfToken[left + right] else {
                throw BPETokenizerError.mergeOutOfVocabulary(index: index, rule: rule)
            }
            ranked.append((l, r, m))
        }
        mergeTable = MergeTable(ranked: ranked)

        var special: [(text: String, id: Int32)] = []
        for (id, type) in self.tokenTypes.enumerated()
        where type == TokenType.control.rawValue || type == TokenType.userDefined.rawValue {
            special.append((tokens[id], Int32(id)))
        }
        specialTokens = SpecialTokenMatcher(special)

        var endIDs = Set(endOfGeneration)
        if let eosID { endIDs.insert(eosID) }
        for text in ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<end_of_turn>", "<|end|>"] {
            if let id = idOfToken[text], self.tokenTypes[Int(id)] != TokenType.normal.rawValue { endIDs.insert(id) }
        }
        endOfGenerationIDs = endIDs

        var decodedBytes: [UInt8] = []
        var decodedOffsets: [Int] = [0]
        decodedOffsets.reserveCapacity(tokens.count + 1)
        for (id, text) in tokens.enumerated() {
            decodedBytes.append(contentsOf: Self.bytes(of: text, type: self.tokenTypes[id]))
            decodedOffsets.append(decodedBytes.count)
        }
        self.decodedBytes = decodedBytes
        self.decodedOffsets = decodedOffsets
    }

    /// Token ids of `text`; with `parseSpecial`, control and user-defined tokens written in the
    /// text become their ids, otherwise they are encoded as plain text. No BOS is added.
    public func encode(_ text: String, parseSpecial: Bool = true) -> [Int32] {
        let scalars = Array(text.unicodeScalars)
        var ids: [Int32] = []
        ids.reserveCapacity(scalars.count / 3 + 1)
        var workspace = Workspace()
        var segmentStart = 0
        if parseSpecial && !specialTokens.isEmpty {
            var i = 0
            while i < scalars.count {
                if let special = specialTokens.match(scalars, at: i) {
                    encodeSegment(scalars[segmentStart ..< i], into: &ids, workspace: &workspace)
                    ids.append(special.id)
                    i += special.length
                    segmentStart = i
                } else {
                    i += 1
                }
            }
        }
        encodeSegment(scalars[segmentStart...], into: &ids, workspace: &workspace)
        return ids
    }

    /// The exact bytes of `ids` concatenated; ids outside the vocabulary contribute nothing.
    public func decodeBytes(_ ids: [Int32]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids where id >= 0 && Int(id) < tokens.count {
            bytes.append(contentsOf: decodedBytes[decodedOffsets[Int(id)] ..< decodedOffsets[Int(id) + 1]])
        }
        return bytes
    }

    /// The text of `ids` for display: invalid UTF-8 (a character cut between tokens) becomes U+FFFD.
    public func decode(_ ids: [Int32]) -> String {
        String(decoding: decodeBytes(ids), as: UTF8.self)
    }

    /// Whether generating `id` ends the answer (EOS, `<|im_end|>`, `<|endoftext|>`, ...).
    public func isEndOfGeneration(_ id: Int32) -> Bool { endOfGenerationIDs.contains(id) }

    /// The id of the vocabulary entry spelled exactly `text`, if any.
    public func id(of text: String) -> Int32? { idOfToken[text] }

    /// Appends the ids of `segment` (text without special tokens).
    private func encodeSegment(_ segment: ArraySlice<Unicode.Scalar>, into ids: inout [Int32], workspace: inout Workspace) {
        guard !segment.isEmpty else { return }
        for piece in preTokenizer.pieces(of: segment) {
            workspace.symbols.removeAll(keepingCapacity: true)
            for scalar in segment[piece] { appendByteTokens(of: scalar, to: &workspace.symbols) }
            var symbols = workspace.symbols
            workspace.symbols = []
            mergeTable.apply(to: &symbols, workspace: &workspace)
            ids.append(contentsOf: symbols)
            symbols.removeAll(keepingCapacity: true)
            workspace.symbols = symbols
        }
    }

    /// Appends the byte tokens of the UTF-8 encoding of `scalar`, dropping bytes without a token.
    @inline(__always)
    private func appendByteTokens(of scalar: Unicode.Scalar, to symbols: inout [Int32]) {
        let v = scalar.value
        @inline(__always) func add(_ byte: UInt32) {
            let id = byteTokenIDs[Int(byte)]
            if id >= 0 { symbols.append(id) }
        }
        switch v {
        case 0 ..< 0x80:
            add(v)
        case 0x80 ..< 0x800:
            add(0xC0 | v >> 6); add(0x80 | v & 0x3F)
        case 0x800 ..< 0x10000:
            add(0xE0 | v >> 12); add(0x80 | v >> 6 & 0x3F); add(0x80 | v & 0x3F)
        default:
            add(0xF0 | v >> 18); add(0x80 | v >> 12 & 0x3F); add(0x80 | v >> 6 & 0x3F); add(0x80 | v & 0x3F)
        }
    }

    /// Whether a token of this type takes part in merges (not control, user-defined or unused).
    private static func isMergeable(_ type: Int32) -> Bool {
        type == TokenType.normal.rawValue || type == TokenType.undefined.rawValue
    }

    /// Bytes a token decodes to: byte-alphabet spelling for normal tokens, `<0xAB>` for byte
    /// tokens, the text itself for control, user-defined and unknown tokens.
    private static func bytes(of text: String, type: Int32) -> [UInt8] {
        switch type {
        case TokenType.normal.rawValue, TokenType.undefined.rawValue:
            return ByteAlphabet.decode(text) ?? Array(text.utf8)
        case TokenType.byte.rawValue:
            let utf8 = Array(text.utf8)
            if utf8.count == 6, text.hasPrefix("<0x"), text.hasSuffix(">"),
               let byte = UInt8(String(decoding: utf8[3 ..< 5], as: UTF8.self), radix: 16) {
                return [byte]
            }
            return utf8
        default:
            return Array(text.utf8)
        }
    }
}
