import ArgumentParser
import KascadeCore
import KascadeCUDA

extension KVDType: ExpressibleByArgument {}

/// `kascade attend`: one attention layer on NumPy `.npy` files (SPEC 4).
struct AttendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attend",
        abstract: "Run one attention layer on .npy files (q [B,H,T,d], k and v [B,G,N,d]; float32 or float16).",
        discussion: """
        Without --causal every query sees all N keys (decode style; index rows are per query, [B,G,T,k]).
        With --causal the block is bottom-right causal and Kascade's anchor works on tiles of 32 positions
        (index rows per tile, [B,G,tiles,kmax], padded with -1; each tile also reads its diagonal block).
        The budget is k = min(max(k-min, ceil(budget * N)), N).

        Example:
          kascade attend --method anchor --q q.npy --k k.npy --v v.npy --out o.npy --indices-out i.npy --budget 0.1
          kascade attend --method reuse  --q q2.npy --k k2.npy --v v2.npy --out o2.npy --indices i.npy
          kascade attend --method anchor --device cuda --dtype bf16 --q q.npy --k k.npy --v v.npy --out o.npy --indices-out i.npy
        Every method runs on --device cuda too.
        """
    )

    enum Device: String, ExpressibleByArgument, CaseIterable { case cpu, cuda }

    @Option(help: "Queries, [B, H, T, d].") var q: String
    @Option(help: "Keys, [B, G, N, d].") var k: String
    @Option(help: "Values, [B, G, N, d].") var v: String
    @Option(help: "Output file, [B, H, T, d] float32.") var out: String
    @Flag(help: "Bottom-right causal block (prefill); otherwise every query sees all keys.") var causal = false
    @Option(name: .customLong("indices-out"), help: "anchor: where to write the selected indices (int32).") var indicesOut: String?
    @Option(help: "reuse: the indices to attend over (int32, -1 = unused slot).") var indices: String?
    @Option(help: "Prefill tile for --causal Kascade.") var tile: Int = 32
    @Option(help: "cpu or cuda.") var device: Device = .cpu
    @Option(help: "cuda: element type the GPU rounds q, k and v to (bf16 or fp16).") var dtype: KVDType = .bf16
    @Flag(help: "Print a JSON summary.") var json = false
    @OptionGroup var methodOptions: MethodOptions

    func run() throws {
        let budget = try methodOptions.resolvedBudget()
        guard tile > 0 else { throw MethodOptions.Failure("--tile must be positive, got \(tile)") }
        let method = methodOptions.method
        if indicesOut != nil && method != "anchor" { throw MethodOptions.Failure("--indices-out is only written by --method anchor") }
        if indices != nil && method != "reuse" { throw MethodOptions.Failure("--indices is only read by --method reuse") }
        let qt = try Self.readFloat(q), kt = try Self.readFloat(k), vt = try Self.readFloat(v)
        let output: HostTensor<Float>
        var selected: HostTensor<Int32>? = nil
        let idx = try indices.map { path -> HostTensor<Int32> in
            do { return try NPY.readInt32(path: path) } catch { throw MethodOptions.Failure("\(path): \(error)") }
        }
        if device == .cuda {
            do {
                if let m = SingleLayerAttention.Method(rawValue: method) {
                    (output, selected) = try CUDASingleLayer.run(method: m, q: qt, k: kt, v: vt, causal: causal, budget: budget,
                                                                  tile: tile, indices: idx, dtype: dtype)
                } else {
                    let (geo, _, _, _) = try SingleLayerAttention.validate(q: qt, k: kt, v: vt, causal: causal)
                    let policy = try CUDAAttention(method: try cudaMethod(budget, geometry: geo), dtype: dtype)
                    output = try SingleLayerAttention.run(policy: policy, layer: MethodOptions.attendLayer, q: qt, k: kt, v: vt, causal: causal)
                }
            } catch let e as CUDAError { throw MethodOptions.Failure("\(e)") }
        } else if let m = SingleLayerAttention.Method(rawValue: method) {
            (output, selected) = try SingleLayerAttention.run(method: m, q: qt, k: kt, v: vt, causal: causal,
                                                               budget: budget, tile: tile, indices: idx)
        } else {
            let (geo, _, _, _) = try SingleLayerAttention.validate(q: qt, k: kt, v: vt, causal: causal)
            let policy = try makeAttentionPolicy(methodOptions, layers: MethodOptions.attendLayer + 1, geometry: geo)
            output = try SingleLayerAttention.run(policy: policy, layer: MethodOptions.attendLayer, q: qt, k: kt, v: vt, causal: causal)
        }
        if let path = indicesOut, let sel = selected { try NPY.write(sel, to: path) }
        try NPY.write(output, to: out)
        if json {
            let idxShape = selected.map { "\($0.shape)" } ?? "null"
            print("{\"method\": \"\(method)\", \"causal\": \(causal), \"output\": \"\(out)\", \"outputShape\": \(output.shape), \"indicesShape\": \(idxShape)}")
        }
    }

    /// The GPU policy's method for `--method` (kascade, quest, twilight, vattention, streaming) and its
    /// options, as layer ``MethodOptions/attendLayer`` of a model.
    func cudaMethod(_ budget: Budget, geometry: AttentionGeometry) throws -> CUDAAttention.Method {
        let o = methodOptions
        switch o.method {
        case "kascade":
            return .kascade(try o.resolvedSchedule(layers: MethodOptions.attendLayer + 1, geometry: geometry), o.variant)
        case "streaming": return .streaming(budget, sinks: StreamingLLMAttention(budget: budget).sinks)
        case "quest": return .quest(budget)
        case "twilight":
            guard o.baseFraction > 0, o.baseFraction <= 1, o.topP > 0, o.topP <= 1 else {
                throw MethodOptions.Failure("--base-fraction and --twilight-p must be in (0, 1]")
            }
            return .twilight(budget, baseFraction: o.baseFraction, topP: Float(o.topP))
        case "vattention":
            guard o.epsilon > 0, o.epsilon < 1, o.delta > 0, o.delta < 1 else { throw MethodOptions.Failure("--epsilon and --delta must be in (0, 1)") }
            guard o.predictor == "topK" else { throw MethodOptions.Failure("--device cuda builds vAttention's topK predictor, not \(o.predictor)") }
            return .vattention(budget, VAttentionGPUConfig(epsilon: o.epsilon, delta: o.delta, seed: o.seed))
        default: throw MethodOptions.Failure("unknown method '\(o.method)' (dense, kascade, anchor, reuse, quest, twilight, vattention, streaming)")
        }
    }

    static func readFloat(_ path: String) throws -> HostTensor<Float> {
        do { return try NPY.readFloat(path: path) } catch { throw MethodOptions.Failure("\(path): \(error)") }
    }
}
