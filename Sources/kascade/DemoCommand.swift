import ArgumentParser
import Foundation
import KascadeCore
import KascadeEval
import KascadeModel

/// `kascade demo`: a long prompt with a pass key hidden in it, answered with dense attention and
/// with Kascade side by side — answer, time, attention time and keys read per method.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Answer a long prompt with a hidden pass key using dense attention and Kascade, side by side.",
        discussion: """
        Builds a prompt of about --tokens tokens of filler text with a five-digit pass key hidden at
        --depth, asks for the key with the model's chat template, and answers it greedily with each
        method of --methods:
          dense           dense prefill, dense decoding (the reference)
          kascade-decode  the same dense prefill (computed once), Kascade while decoding
          kascade         Kascade in the prefill (tile-level selection) and while decoding
        Kascade runs the schedule shipped for the default model (5 anchors, 10% of the keys) unless
        --schedule is given. Prints each answer, prefill and decode time, time inside attention and
        the share of the keys that dense attention reads which each method read.

        Example:
          kascade demo
          kascade demo --tokens 3000 --depth 0.25 --methods dense,kascade --json
        """
    )

    /// The rows the demo can show.
    enum Method: String, CaseIterable {
        case dense
        case kascadeDecode = "kascade-decode"
        case kascade
    }

    @OptionGroup var modelFile: ModelFileOption

    @Option(name: .customLong("tokens"), help: "Approximate prompt length in tokens.")
    var promptTokens = 6000

    @Option(help: "Where the pass key hides in the filler, 0 (start) to 1 (end).")
    var depth = 0.5

    @Option(help: "Filler around the pass key: repeated (one paragraph) or prose (varied sentences).")
    var filler: DemoPrompt.Filler = .prose

    @Option(help: "Rows to run, comma-separated: dense, kascade-decode, kascade.")
    var methods = "dense,kascade-decode,kascade"

    @Option(help: "Seed that picks the pass key and the prose.")
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
        _ = try methodList()
    }

    /// The requested rows, in the order dense, kascade-decode, kascade.
    private func methodList() throws -> [Method] {
        let names = methods.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for name in names where Method(rawValue: name) == nil {
            throw ValidationError("--methods: unknown method '\(name)' (use \(Method.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let chosen = Method.allCases.filter { names.contains($0.rawValue) }
        guard !chosen.isEmpty else { throw ValidationError("--methods lists no method") }
        return chosen
    }

    func run() throws {
        let loaded = try modelFile.open()
        let llama = loaded.llama, tokenizer = loaded.tokenizer
        let template = ChatTemplate(gguf: loaded.gguf)
        let rows = try methodList()

        var (kascadeSchedule, origin) = try loadSchedule(for: llama)
        if let fraction {
            kascadeSchedule.fraction = fraction
            try kascadeSchedule.validate()
        }
        let prompt = DemoPrompt.build(tokenizer: tokenizer, template: template, targetTokens: promptTokens,
                                      depth: depth, filler: filler, seed: seed)
        let context = prompt.tokens.count + maxNewTokens
        guard context <= llama.config.contextLength else {
            throw CLIFailure("the prompt (\(prompt.tokens.count) tokens) and --max-new-tokens \(maxNewTokens) exceed the model's context of \(llama.config.contextLength) tokens")
        }
        if !json {
            print("model    \(llama.modelID)")
            print("prompt   \(prompt.tokens.count) tokens, pass key \(prompt.passkey) at token \(prompt.needlePosition)")
            print("kascade  \(origin): anchors \(kascadeSchedule.anchors.map(String.init).joined(separator: ",")), "
                  + "\(Self.percent(kascadeSchedule.fraction)) of the keys (at least \(kascadeSchedule.kMin))")
        }

        var results: [DemoMethodResult] = []
        let runner = DemoRunner(model: llama, tokenizer: tokenizer, prompt: prompt, maxNewTokens: maxNewTokens)
        if rows.contains(.dense) || rows.contains(.kascadeDecode) {
            // One dense prefill serves both rows: the session rewinds to the prompt between answers.
            let policy = SwitchablePolicy(DenseAttention())
            let session = try InferenceSession(model: llama, policy: policy, maxContext: context)
            let prefill = try runner.prefill(session, label: "dense prefill")
            if rows.contains(.dense) {
                results.append(try runner.decode(session, after: prefill, row: Method.dense.rawValue))
            }
            if rows.contains(.kascadeDecode) {
                session.rewind(to: prompt.tokens.count)
                policy.current = KascadeAttention(schedule: kascadeSchedule)
                results.append(try runner.decode(session, after: prefill, row: Method.kascadeDecode.rawValue))
            }
        }
        if rows.contains(.kascade) {
            let session = try InferenceSession(model: llama, policy: KascadeAttention(schedule: kascadeSchedule), maxContext: context)
            let prefill = try runner.prefill(session, label: "kascade prefill")
            results.append(try runner.decode(session, after: prefill, row: Method.kascade.rawValue))
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
                throw CLIFailure("schedule \(schedule) is for \(loaded.layers) layers x \(loaded.kvHeads) KV heads, the model has \(llama.config.layers) x \(llama.config.kvHeads)")
            }
            return (loaded, "schedule \(schedule)")
        }
        if let shipped = ShippedSchedule.schedule(for: llama.modelID) {
            return (shipped, "shipped schedule")
        }
        let even = try KascadeSchedule.evenlySpaced(layers: llama.config.layers, kvHeads: llama.config.kvHeads,
                                                    anchors: min(5, llama.config.layers), modelID: llama.modelID)
        return (even, "uncalibrated schedule (none ships for this model; see kascade calibrate)")
    }

    private static func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }

    private static func printTable(_ results: [DemoMethodResult]) {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        print("")
        print(pad("method", 16) + pad("pass key", 10) + pad("prefill s", 15) + pad("attention s", 13)
              + pad("keys read", 11) + pad("decode tok/s", 14) + pad("attention s", 13) + "keys read")
        print(pad("", 16) + pad("", 10) + pad("", 15) + pad("(prefill)", 13) + pad("(prefill)", 11)
              + pad("", 14) + pad("(decode)", 13) + "(decode)")
        for r in results {
            let rate = r.decodeSeconds > 0 ? Double(r.decodeSteps) / r.decodeSeconds : 0
            let shared = r.method == Method.kascadeDecode.rawValue ? " (shared)" : ""
            print(pad(r.method, 16) + pad(r.found ? "found" : "missed", 10)
                  + pad(String(format: "%.1f", r.prefillSeconds) + shared, 15)
                  + pad(String(format: "%.2f", r.prefillAttentionSeconds), 13) + pad(percent(r.prefillKeys.readFraction), 11)
                  + pad(String(format: "%.1f", rate), 14) + pad(String(format: "%.3f", r.decodeAttentionSeconds), 13)
                  + percent(r.decodeKeys.readFraction))
        }
        print("")
        for r in results {
            let answer = r.answer.replacingOccurrences(of: "\n", with: " ")
            print(pad(r.method, 16) + DemoPrompt.answerStart + answer)
        }
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
        CLIOutput.out(String(decoding: data, as: UTF8.self) + "\n")
    }
}

extension DemoPrompt.Filler: ExpressibleByArgument {}
