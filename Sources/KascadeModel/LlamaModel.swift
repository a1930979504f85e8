import KascadeCore

/// A LLaMA-family model (`general.architecture = llama`) whose weights stay quantised in the mapped GGUF file.
///
/// Conventions (llama.cpp's for this architecture): the file's Q and K projections are stored
/// permuted so that RoPE rotates adjacent pairs `(x[2i], x[2i+1])` by `pos * base^(-2i/n_rot)`;
/// RMSNorm `x * g / sqrt(mean(x^2) + eps)`; SwiGLU `down(silu(gate x) * up x)`; the output head is
/// `output.weight` or, when absent, the tied `token_embd.weight`.
public final class LlamaModel: @unchecked Sendable {
    /// The mapped file; weights point into it.
    public let gguf: GGUFFile
    /// Hyper-parameters.
    public let config: LlamaConfig
    /// Identifies the weights for schedules: `general.name` (or the file name) and the file size.
    public let modelID: String
    /// Whether the output head is the token embedding.
    public let tiedEmbeddings: Bool
    let embedding: WeightMatrix
    let outputHead: WeightMatrix
    let outputNorm: [Float]
    let layers: [LlamaLayerWeights]
    /// Per rotated pair `i`, the angle per position: `base^(-2i/n_rot)` (divided by `rope_freqs` when present).
    let ropeFrequencies: [Double]

    /// Loads and checks every tensor; throws ``ModelError`` (missing tensor, shape, type, architecture).
    public init(gguf: GGUFFile) throws {
        let c = try LlamaConfig(gguf: gguf)
        self.gguf = gguf
        self.config = c
        let fileName = gguf.path.split(separator: "/").last.map(String.init) ?? gguf.path
        modelID = "\(gguf.string("general.name") ?? fileName)@\(gguf.storage.count)"

        func tensor(_ name: String, _ shape: [Int]) throws -> GGUFTensorInfo {
            guard let t = gguf.tensor(named: name) else { throw ModelError.missingTensor(name) }
            guard t.shape == shape else { throw ModelError.shapeMismatch(tensor: name, expected: shape, got: t.shape) }
            return t
        }
        func matrix(_ name: String, rows: Int, cols: Int) throws -> WeightMatrix {
            try WeightMatrix(file: gguf, info: tensor(name, [cols, rows]))
        }
        func vector(_ name: String, _ n: Int) throws -> [Float] {
            let t = try tensor(name, [n])
            guard t.type.canDequantize else { throw ModelError.unsupportedTensorType(tensor: name, type: t.type.name) }
            return try gguf.dequantize(t)
        }
        let w = c.width, qd = c.queryHeads * c.headDim, kd = c.kvHeads * c.headDim
        embedding = try matrix("token_embd.weight", rows: c.vocabularySize, cols: w)
        if gguf.tensor(named: "output.weight") != nil {
            outputHead = try matrix("output.weight", rows: c.vocabularySize, cols: w)
            tiedEmbeddings = false
        } else {
            outputHead = embedding
            tiedEmbeddings = true
        }
        outputNorm = try vector("output_norm.weight", w)
        var layers: [LlamaLayerWeights] = []
        for l in 0..<c.layers {
            let p = "blk.\(l)."
            layers.append(LlamaLayerWeights(
                attentionNorm: try vector(p + "attn_norm.weight", w),
                query: try matrix(p + "attn_q.weight", rows: qd, cols: w),
                key: try matrix(p + "attn_k.weight", rows: kd, cols: w),
                value: try matrix(p + "attn_v.weight", rows: kd, cols: w),
                output: try matrix(p + "attn_output.weight", rows: w, cols: qd),
                ffnNorm: try vector(p + "ffn_norm.weight", w),
                gate: try matrix(p + "ffn_gate.weight", rows: c.ffnWidth, cols: w),
                up: try matrix(p + "ffn_up.weight", rows: c.ffnWidth, cols: w),
                down: try matrix(p + "ffn_down.weight", rows: w, cols: c.ffnWidth)))
        }
        self.layers = layers
        let pairs = c.ropeDimensions / 2
        var freqs = (0..<pairs).map { i in Foundation_pow(Double(c.ropeBase), -2 * Double(i) / Double(c.ropeDimensions)) }
        if gguf.tensor(named: "rope_freqs.weight") != nil {
            let factors = try vector("rope_freqs.weight", pairs)
            for i in 0..<pairs { freqs[i] /= Double(factors[i]) }
        }
        ropeFrequencies = freqs
    }

    /// Opens and loads the model file at `path`.
    public convenience init(path: String) throws {
        try self.init(gguf: GGUFFile(path: path))
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func Foundation_pow(_ a: Double, _ b: Double) -> Double { Glibc.pow(a, b) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func Foundation_pow(_ a: Double, _ b: Double) -> Double { Darwin.pow(a, b) }
#endif
