import ArgumentParser
import Foundation
import KascadeCore
import KascadeModel

/// `kascade demo`: a long prompt with a pass key hidden in it, answered with dense attention and
/// with Kascade side by side — answer, time, attention time and keys read per method.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Answer a long prompt with a hidden pass key using dense attention and Kascade, side by side.",
        discussion: """
        Builds a prompt of about --tokens tokens of filler text with a five-digit pass key hidden at
        --depth, asks for the key with the model's chat template, and answers it twice: with dense
        attention and with Kascade (the schedule shipped for the default model, 10% of the keys).
        Prints each answer, prefill and decode time, attention time and the keys read.

        Example:
          kascade demo
          kascade demo --tokens 3000 --depth 0.25 --json
        """
    )

    @Option(help: "GGUF model file (default: $KASCADE_MODEL, else SmolLM2-135M-Instruct, installed on first use).")
    var model: String?

    @Option(name: .customLong("tokens"), help: "Approximate prompt length in tokens.")
    var promptTokens = 6000

    @Option(help: "Where the pass key hides in the filler, 0 (start) to 1 (end).")
    var depth = 0.5

    @Option(help: "Filler around the pass key: \(DemoPrompt.Filler.allCases.map(\.rawValue).joined(separator: ", ")).")
    var filler: DemoPrompt.Filler = .prose

    @Option(help: "Methods to run, comma-separated: dense, kascade.")
    var methods = "dense,kascade"

    @Option(help: "Seed that picks the pass key.")
    var seed: UInt64 = 1

    @Option(help: "Kascade schedule JSON (default: the one shipped for the model, else 5 evenly spaced anchors).")
    var schedule: String?

    @Option(help: "Kascade budget fraction in (0, 1] (default: the schedule's).")
    var fraction: Double?

    @Option(help: "Most tokens to generate per answer.")
    var maxNewTokens = 12

    @Flag(help: "Print the results as JSON.")
    var json = false

    func validate() throws {
        guard promptTokens >= 64 else { throw ValidationError("--tokens \(promptTokens) must be at least 64") }
        guard depth >= 0, depth <= 1 else { throw ValidationError("--depth \(depth) must be in [0, 1]") }
        guard maxNewTokens >= 1 else { throw ValidationError("--max-new-tokens \(maxNewTokens) must be at least 1") }
        if let fraction, !(fraction > 0 && fraction <= 1) { throw ValidationError("--fraction \(fraction) must be in (0, 1]") }
        guard !methodList.isEmpty, methodList.allSatisfy({ $0 == "dense" || $0 == "kascade" }) else {
            throw ValidationError("--methods \(methods) must list dense and/or kascade")
        }
    }

    private var methodList: [String] { methods.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func run() throws {
        let log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        let path = try ModelLocator.resolve(explicit: model, log: log)
        let gguf = try GGUFFile(path: path)
        let llama = try LlamaModel(gguf: gguf)
        let tokenizer = try BPETokenizer(gguf: gguf)
        let template = ChatTemplate(gguf: gguf)

        var (kascadeSchedule, origin) = try loadSchedule(for: llama)
        if let fraction {
            kascadeSchedule.fraction = fraction
            try kascadeSchedule.validate()
        }
        let prompt = DemoPrompt.build(tokenizer: tokenizer, template: template, targetTokens: promptTokens,
                                      depth: depth, filler: filler, seed: seed)
        let context = prompt.tokens.count + maxNewTokens
        guard context <= llama.config.contextLength else {
            throw ModelError.contextTooLong(requested: context, model: llama.config.contextLength)
        }
        if !json {
            print("model     \(llama.modelID)")
            print("prompt    \(prompt.tokens.count) tokens, pass key \(prompt.passkey) at token \(prompt.needlePosition)")
            print("kascade   \(origin): anchors \(kascadeSchedule.anchors.map(String.init).joined(separator: ",")), "
                  + "\(Self.percent(kascadeSchedule.fraction)) of the keys (at least \(kascadeSchedule.kMin))")
        }
        let policies: [AttentionPolicy] = methodList.map {
            $0 == "dense" ? DenseAttention() as AttentionPolicy : KascadeAttention(schedule: kascadeSchedule)
        }
        var results: [DemoMethodResult] = []
        for policy in policies {
            results.append(try Self.answer(prompt: prompt, model: llama, tokenizer: tokenizer, policy: policy,
                                           maxNewTokens: maxNewTokens, context: context))
        }
        if json {
            try printJSON(results, prompt: prompt, llama: llama, schedule: kascadeSchedule, origin: origin)
        } else {
            Self.printTable(results)
        }
    }

    /// `--schedule`, else the schedule shipped for the model, else evenly spaced anchors.
    private func loadSchedule(for llama: LlamaModel) throws -> (KascadeSchedule, String) {
        if let schedule {
            let loaded = try KascadeSchedule.load(path: schedule)
            guard loaded.layers == llama.config.layers, loaded.kvHeads == llama.config.kvHeads else {
                throw ValidationError("schedule \(schedule) is for \(loaded.layers) layers x \(loaded.kvHeads) KV heads, the model has \(llama.config.layers) x \(llama.config.kvHeads)")
            }
            return (loaded, "schedule \(schedule)")
        }
        if let shipped = ShippedSchedule.schedule(for: llama.modelID) {
            return (shipped, "shipped schedule (calibrated on \(shipped.devSetID))")
        }
        let even = try KascadeSchedule.evenlySpaced(layers: llama.config.layers, kvHeads: llama.config.kvHeads,
                                                    anchors: min(5, llama.config.layers), modelID: llama.modelID)
        return (even, "uncalibrated schedule (no schedule ships for this model; run kascade calibrate)")
    }

    /// Prefills the prompt and greedily generates the answer with `policy` in every layer.
    static func answer(prompt: DemoPrompt, model: LlamaModel, tokenizer: BPETokenizer, policy: AttentionPolicy,
                       maxNewTokens: Int, context: Int) throws -> DemoMethodResult {
        let session = try InferenceSession(model: model, policy: policy, maxContext: context)
        let bar = TerminalProgress(label: "\(policy.name) prefill")
        let start = DispatchTime.now()
        var logits = try session.prefill(prompt.tokens) { done, total in bar.update(done, of: total) }
        bar.finish()
        let prefillSeconds = seconds(since: start)
        let prefillKeys = policy.stats
        let prefillAttention = session.attentionSeconds

        var sampler = Sampler(SamplerOptions())
        var generated: [Int32] = []
        let decodeStart = DispatchTime.now()
        while generated.count < maxNewTokens {
            let token = sampler.sample(logits)
            if tokenizer.isEndOfGeneration(token) { break }
            generated.append(token)
            if generated.count == maxNewTokens { break }
            logits = try session.step(token)
        }
        let decodeSeconds = seconds(since: decodeStart)
        var decodeKeys = policy.stats
        decodeKeys.keysRead -= prefillKeys.keysRead
        decodeKeys.denseKeys -= prefillKeys.denseKeys
        decodeKeys.calls -= prefillKeys.calls
        let answer = tokenizer.decode(generated)
        return DemoMethodResult(
            method: policy.name, answer: answer, found: answer.contains(prompt.passkey),
            promptTokens: prompt.tokens.count, prefillSeconds: prefillSeconds,
            generatedTokens: generated.count, decodeSeconds: decodeSeconds,
            prefillAttentionSeconds: prefillAttention, decodeAttentionSeconds: session.attentionSeconds - prefillAttention,
            prefillKeys: prefillKeys, decodeKeys: decodeKeys)
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) * 1e-9
    }

    private static func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }

    private static func printTable(_ results: [DemoMethodResult]) {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        print("")
        print(pad("method", 9) + pad("found", 7) + pad("prefill s", 11) + pad("decode tok/s", 14)
              + pad("attn s (prefill/decode)", 25) + pad("keys read prefill", 19) + "keys read decode")
        for r in results {
            let decodeRate = r.decodeSeconds > 0 ? Double(r.generatedTokens) / r.decodeSeconds : 0
            print(pad(r.method, 9) + pad(r.found ? "yes" : "no", 7) + pad(String(format: "%.1f", r.prefillSeconds), 11)
                  + pad(String(format: "%.1f", decodeRate), 14)
                  + pad(String(format: "%.2f / %.3f", r.prefillAttentionSeconds, r.decodeAttentionSeconds), 25)
                  + pad("\(percent(r.prefillKeys.readFraction)) (saved \(percent(DemoMethodResult.saved(r.prefillKeys))))", 19)
                  + "\(percent(r.decodeKeys.readFraction)) (saved \(percent(DemoMethodResult.saved(r.decodeKeys))))")
        }
        print("")
        for r in results { print("\(pad(r.method, 9))\(DemoPrompt.answerStart)\(r.answer.debugDescription.dropFirst().dropLast())") }
    }

    private func printJSON(_ results: [DemoMethodResult], prompt: DemoPrompt, llama: LlamaModel,
                           schedule: KascadeSchedule, origin: String) throws {
        struct Report: Codable {
            var modelID: String
            var promptTokens: Int
            var passkey: String
            var needlePosition: Int
            var schedule: KascadeSchedule
            var scheduleOrigin: String
            var methods: [DemoMethodResult]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(Report(modelID: llama.modelID, promptTokens: prompt.tokens.count, passkey: prompt.passkey,
                                             needlePosition: prompt.needlePosition, schedule: schedule,
                                             scheduleOrigin: origin, methods: results))
        FileHandle.standardOutput.write(data)
        print("")
    }
}

extension DemoPrompt.Filler: ExpressibleByArgument {}
