import KascadeCore

/// Hyper-parameters of a LLaMA-family model, read from `<arch>.*` GGUF metadata.
public struct LlamaConfig: Codable, Sendable, Hashable {
    /// Transformer blocks.
    public var layers: Int
    /// Query heads `H`.
    public var queryHeads: Int
    /// Key/value heads `G`.
    public var kvHeads: Int
    /// Head dimension `d`.
    public var headDim: Int
    /// Residual stream width.
    public var width: Int
    /// Hidden width of the SwiGLU feed-forward block.
    public var ffnWidth: Int
    /// Trained context length in tokens.
    public var contextLength: Int
    /// Vocabulary size (rows of the embedding).
    public var vocabularySize: Int
    /// RoPE base frequency.
    public var ropeBase: Float
    /// Dimensions of each head that RoPE rotates (adjacent pairs), `<= headDim`.
    public var ropeDimensions: Int
    /// RMSNorm epsilon.
    public var rmsEpsilon: Float

    /// Memberwise initialiser (for synthetic models).
    public init(layers: Int, queryHeads: Int, kvHeads: Int, headDim: Int, width: Int, ffnWidth: Int,
                contextLength: Int, vocabularySize: Int, ropeBase: Float = 10000, ropeDimensions: Int? = nil,
                rmsEpsilon: Float = 1e-5) {
        self.layers = layers
        self.queryHeads = queryHeads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.width = width
        self.ffnWidth = ffnWidth
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
        self.ropeBase = ropeBase
        self.ropeDimensions = ropeDimensions ?? headDim
        self.rmsEpsilon = rmsEpsilon
    }

    /// Reads the configuration from `gguf`'s metadata; the architecture must be `llama`.
    /// Defaults where a key is absent: RoPE base 10000, epsilon 1e-5, head dim `width / H`,
    /// KV heads `H`, vocabulary from `token_embd.weight`.
    public init(gguf: GGUFFile) throws {
        guard let arch = gguf.string("general.architecture") else { throw ModelError.missingMetadata("general.architecture") }
        guard arch == "llama" else { throw ModelError.unsupportedArchitecture(arch) }
        func req(_ key: String) throws -> Int {
            guard let v = gguf.int("\(arch).\(key)") else { throw ModelError.missingMetadata("\(arch).\(key)") }
            return v
        }
        let width = try req("embedding_length")
        let heads = try req("attention.head_count")
        guard heads > 0 else { throw ModelError.badHyperparameter(what: "attention.head_count", value: "\(heads)") }
        let headDim = gguf.int("\(arch).attention.key_length") ?? width / heads
        var vocab = gguf.int("\(arch).vocab_size")
        if vocab == nil, let e = gguf.tensor(named: "token_embd.weight"), e.shape.count == 2 { vocab = e.shape[1] }
        guard let vocabularySize = vocab else { throw ModelError.missingMetadata("\(arch).vocab_size") }
        self.init(layers: try req("block_count"), queryHeads: heads,
                  kvHeads: gguf.int("\(arch).attention.head_count_kv") ?? heads, headDim: headDim, width: width,
                  ffnWidth: try req("feed_forward_length"), contextLength: try req("context_length"),
                  vocabularySize: vocabularySize,
                  ropeBase: Float(gguf.double("\(arch).rope.freq_base") ?? 10000),
                  ropeDimensions: gguf.int("\(arch).rope.dimension_count") ?? headDim,
                  rmsEpsilon: Float(gguf.double("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5))
        if let v = gguf.int("\(arch).attention.value_length"), v != headDim {
            throw ModelError.badHyperparameter(what: "attention.value_length", value: "\(v) (key length \(headDim))")
        }
        if let scaling = gguf.string("\(arch).rope.scaling.type"), scaling != "none" {
            if scaling != "linear" || (gguf.double("\(arch).rope.scaling.factor") ?? 1) != 1 {
                throw ModelError.badHyperparameter(what: "rope.scaling.type", value: scaling)
            }
        }
        try validate()
    }

    /// Checks the sizes this forward pass relies on.
    public func validate() throws {
        func bad(_ w: String, _ v: Int) -> ModelError { .badHyperparameter(what: w, value: "\(v)") }
        guard layers > 0 else { throw bad("block_count", layers) }
        guard queryHeads > 0, kvHeads > 0, queryHeads % kvHeads == 0 else {
            throw ModelError.badHyperparameter(what: "attention.head_count / head_count_kv", value: "\(queryHeads) / \(kvHeads)")
        }
        guard headDim > 0, headDim % 2 == 0 else { throw bad("head dim", headDim) }
        guard width > 0, width % 32 == 0 else { throw bad("embedding_length (must be a multiple of 32)", width) }
        guard ffnWidth > 0, ffnWidth % 32 == 0 else { throw bad("feed_forward_length (must be a multiple of 32)", ffnWidth) }
        guard (queryHeads * headDim) % 32 == 0 else { throw bad("head_count * head dim (must be a multiple of 32)", queryHeads * headDim) }
        guard contextLength > 0 else { throw bad("context_length", contextLength) }
        guard vocabularySize > 0 else { throw bad("vocab_size", vocabularySize) }
        guard ropeDimensions > 0, ropeDimensions <= headDim, ropeDimensions % 2 == 0 else { throw bad("rope.dimension_count", ropeDimensions) }
        guard ropeBase.isFinite, ropeBase > 1 else {
            throw ModelError.badHyperparameter(what: "rope.freq_base", value: "\(ropeBase)")
        }
        guard rmsEpsilon.isFinite, rmsEpsilon >= 0 else {
            throw ModelError.badHyperparameter(what: "attention.layer_norm_rms_epsilon", value: "\(rmsEpsilon)")
        }
    }

    /// Attention head layout (KascadeCore).
    public var geometry: AttentionGeometry {
        // validate() guarantees H % G == 0 and positive sizes.
        try! AttentionGeometry(queryHeads: queryHeads, kvHeads: kvHeads, headDim: headDim)
    }
}
