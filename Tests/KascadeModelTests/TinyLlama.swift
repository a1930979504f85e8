import KascadeModel

/// A small random llama model written as GGUF in memory, for tests that need a model but not the real one.
enum TinyLlama {
    static let width = 64, heads = 4, kvHeads = 2, headDim = 16, ffn = 96, vocab = 50, layers = 2, context = 256

    /// The file's bytes; `drop` omits a tensor, `arch` renames the architecture, `weightType` is used for projections.
    static func bytes(seed: UInt64 = 1, arch: String = "llama", drop: String? = nil, weightType: GGMLType = .q4_1,
                      tied: Bool = true) -> [UInt8] {
        var rng = TestRandom(seed: seed)
        var w = GGUFWriter()
        w.set("general.architecture", .string(arch))
        w.set("general.name", .string("tiny"))
        w.set("\(arch).block_count", .uint32(UInt32(layers)))
        w.set("\(arch).context_length", .uint32(UInt32(context)))
        w.set("\(arch).embedding_length", .uint32(UInt32(width)))
        w.set("\(arch).feed_forward_length", .uint32(UInt32(ffn)))
        w.set("\(arch).attention.head_count", .uint32(UInt32(heads)))
        w.set("\(arch).attention.head_count_kv", .uint32(UInt32(kvHeads)))
        w.set("\(arch).rope.freq_base", .float32(10000))
        w.set("\(arch).attention.layer_norm_rms_epsilon", .float32(1e-5))
        func add(_ name: String, _ shape: [Int], _ type: GGMLType, scale: Float) {
            guard name != drop else { return }
            let n = shape.reduce(1, *)
            let values = type == .f32 && shape.count == 1
                ? (0..<n).map { _ in 1 + Float.random(in: -0.2...0.2, using: &rng) }
                : rng.normals(n, scale: scale)
            if type == .q5_0 {
                w.addTensor(name, shape: shape, type: type, data: [UInt8](repeating: 0, count: n / 32 * 22))
            } else {
                w.addTensor(name, shape: shape, type: type, values: values)
            }
        }
        add("token_embd.weight", [width, vocab], .q8_0, scale: 1)
        if !tied { add("output.weight", [width, vocab], weightType, scale: 0.2) }
        add("output_norm.weight", [width], .f32, scale: 1)
        let qd = heads * headDim, kd = kvHeads * headDim
        for l in 0..<layers {
            let p = "blk.\(l)."
            add(p + "attn_norm.weight", [width], .f32, scale: 1)
            add(p + "attn_q.weight", [width, qd], weightType, scale: 0.3)
            add(p + "attn_k.weight", [width, kd], weightType, scale: 0.3)
            add(p + "attn_v.weight", [width, kd], weightType, scale: 0.3)
            add(p + "attn_output.weight", [qd, width], weightType, scale: 0.1)
            add(p + "ffn_norm.weight", [width], .f32, scale: 1)
            add(p + "ffn_gate.weight", [width, ffn], weightType, scale: 0.2)
            add(p + "ffn_up.weight", [width, ffn], weightType, scale: 0.2)
            add(p + "ffn_down.weight", [ffn, width], weightType, scale: 0.1)
        }
        return w.bytes()
    }

    static func model(seed: UInt64 = 1, weightType: GGMLType = .q4_1, tied: Bool = true) throws -> LlamaModel {
        try LlamaModel(gguf: GGUFFile(bytes: bytes(seed: seed, weightType: weightType, tied: tied)))
    }
}
