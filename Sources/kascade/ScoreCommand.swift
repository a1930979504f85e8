import ArgumentParser
import Foundation
import KascadeCore
import KascadeModel

/// `kascade score`: teacher-forced log-probabilities and perplexity of a text file.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Teacher-forced log-probabilities and perplexity of a text file under a GGUF model.",
        discussion: """
        Token i's log-probability is read from the logits after tokens 0 ..< i; the first token is
        conditioned on nothing and not scored. --logits-out writes the logits of every token,
        [T, vocab] float32 .npy (row i predicts token i + 1).
        Examples:
          kascade score README.md
          kascade score notes.txt --method quest --budget 0.2 --logits-out logits.npy --json
        """
    )

    @Argument(help: "UTF-8 text file to score.")
    var file: String

    @OptionGroup var modelFile: ModelFileOption

    @Option(help: "Score at most this many tokens (default: the model's context).")
    var maxTokens: Int?

    @Flag(help: "Prepend the model's BOS token.")
    var bos = false

    @Option(help: "Write the logits [T, vocab] as float32 .npy here.")
    var logitsOut: String?

    @Option(help: "Prefill chunk in tokens (a multiple of 32).")
    var chunk = 128

    @OptionGroup var method: MethodOptions

    @Flag(help: "Print JSON with per-token log-probabilities.")
    var json = false

    func run() throws {
        let loaded = try modelFile.open()
        let llama = loaded.llama, config = llama.config, tokenizer = loaded.tokenizer
        var ids = tokenizer.encode(try CLIOutput.readText(file), parseSpecial: false)
        if bos, let b = tokenizer.bosID { ids.insert(b, at: 0) }
        let limit = maxTokens ?? config.contextLength
        guard limit > 0 else { throw ValidationError("--max-tokens must be positive") }
        if ids.count > limit {
            guard maxTokens != nil else { throw ModelError.contextOverflow(needed: ids.count, capacity: config.contextLength) }
            ids.removeLast(ids.count - limit)
        }
        guard ids.count >= 2 else { throw ModelError.emptyPrompt }

        let policy = try makeAttentionPolicy(method, layers: config.layers, geometry: config.geometry, modelID: llama.modelID)
        let session = try InferenceSession(model: llama, policy: policy, maxContext: ids.count, chunkSize: chunk)
        let progress = ProgressBar(label: "scoring", total: ids.count)
        let start = Date()
        let logits = try session.prefillAllLogits(ids) { done, _ in progress.update(done) }
        progress.finish()
        let seconds = Date().timeIntervalSince(start)

        let vocab = config.vocabularySize
        var logProbs: [Double] = []
        logProbs.reserveCapacity(ids.count - 1)
        logits.withUnsafeBufferPointer { l in
            for i in 0..<(ids.count - 1) {
                let row = l.baseAddress! + i * vocab
                var m = -Float.infinity
                for j in 0..<vocab { m = max(m, row[j]) }
                var z: Double = 0
                for j in 0..<vocab { z += Foundation.exp(Double(row[j] - m)) }
                logProbs.append(Double(row[Int(ids[i + 1])] - m) - Foundation.log(z))
            }
        }
        let meanNLL = -logProbs.reduce(0, +) / Double(logProbs.count)
        let perplexity = Foundation.exp(meanNLL)

        if let out = logitsOut {
            try NPY.write(HostTensor(shape: [ids.count, vocab], scalars: logits), to: out)
        }
        let stats = policy.stats
        let saved = stats.denseKeys > 0 ? 1 - stats.keysRead / stats.denseKeys : 0
        if json {
            try CLIOutput.printJSON([
                "model": llama.modelID, "method": policy.name, "tokens": ids.count, "scored_tokens": logProbs.count,
                "mean_nll": meanNLL, "perplexity": perplexity, "seconds": seconds,
                "tokens_per_s": Double(ids.count) / seconds, "attention_work_saved": saved,
                "token_ids": ids.map(Int.init), "log_probs": logProbs,
            ])
        } else {
            print("tokens: \(ids.count) (\(logProbs.count) scored)")
            print(String(format: "mean negative log-likelihood: %.4f nats/token", meanNLL))
            print(String(format: "perplexity: %.3f", perplexity))
            print(String(format: "[%@] %.1f tokens/s, %.1f%% of dense key reads saved", policy.name, Double(ids.count) / seconds, 100 * saved))
        }
    }
}
