extension BPETokenizer {
    /// The tokenizer stored in a GGUF file's `tokenizer.ggml.*` metadata (model `gpt2`).
    ///
    /// Reads `tokens`, `merges`, `token_type` (optional), `pre` (absent: `gpt2`), `bos_token_id`,
    /// `eos_token_id` and `eot_token_id`/`eom_token_id` (optional); throws `BPETokenizerError`.
    public convenience init(gguf: GGUFFile) throws {
        let model = gguf.string("tokenizer.ggml.model")
        guard let model else { throw BPETokenizerError.missingMetadata("tokenizer.ggml.model") }
        guard model == "gpt2" else { throw BPETokenizerError.unsupportedModel(model) }
        guard let tokens = gguf.stringArray("tokenizer.ggml.tokens") else {
            throw BPETokenizerError.missingMetadata("tokenizer.ggml.tokens")
        }
        guard let merges = gguf.stringArray("tokenizer.ggml.merges") else {
            throw BPETokenizerError.missingMetadata("tokenizer.ggml.merges")
        }
        var types: [Int32] = []
        if gguf.metadata["tokenizer.ggml.token_type"] != nil {
            guard let raw = gguf.intArray("tokenizer.ggml.token_type") else {
                throw BPETokenizerError.missingMetadata("tokenizer.ggml.token_type")
            }
            types = raw.map { Int32(truncatingIfNeeded: $0) }
        }
        func id(_ key: String) throws -> Int32? {
            guard gguf.metadata[key] != nil else { return nil }
            guard let value = gguf.int(key) else { throw BPETokenizerError.missingMetadata(key) }
            guard value >= 0, value < tokens.count else {
                throw BPETokenizerError.tokenIDOutOfRange(name: key, id: Int64(value), vocabularySize: tokens.count)
            }
            return Int32(value)
        }
        let extra = try ["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"].compactMap { try id($0) }
        try self.init(tokens: tokens, merges: merges, tokenTypes: types,
                      bosID: try id("tokenizer.ggml.bos_token_id"), eosID: try id("tokenizer.ggml.eos_token_id"),
                      preTokenizer: gguf.string("tokenizer.ggml.pre") ?? "gpt2", endOfGeneration: extra)
    }
}
