import ArgumentParser
import Foundation
import KascadeCore
import KascadeModel

/// `kascade generate`: streams a model's continuation of a prompt with any attention method in every layer.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text with a GGUF model on the CPU, any attention method in every layer.",
        discussion: """
        Prints the prompt and generation speed (tokens/s) and the attention work saved to stderr.
        Examples:
          kascade generate --chat --prompt "What is the capital of France?"
          kascade generate --prompt-file long.txt --method kascade --budget 0.1 --schedule schedule.json
          kascade generate --synthetic-prompt 2048 --max-tokens 64 --json     (speed measurement)
        """
    )

    @OptionGroup var modelFile: ModelFileOption

    @Option(help: "Prompt text.")
    var prompt: String?

    @Option(help: "Read the prompt from this file.")
    var promptFile: String?

    @Option(help: "Use N deterministic token ids as the prompt instead of text (speed measurement).")
    var syntheticPrompt: Int?

    @Flag(help: "Wrap the prompt in the model's chat template (ChatML).")
    var chat = false

    @Option(help: "System message for --chat (default: the template's).")
    var system: String?

    @Option(help: "Tokens to generate at most.")
    var maxTokens = 128

    @Flag(help: "Keep generating past end-of-generation tokens.")
    var ignoreEOS = false

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(help: "Sample among the K most likely tokens (0: all).")
    var topK = 0

    @Option(help: "Sample among the most likely tokens of total probability P.")
    var topP: Float = 1

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Option(help: "KV cache size in tokens (default: prompt + max tokens, at most the model's context).")
    var context: Int?

    @Option(help: "Prefill chunk in tokens (a multiple of 32).")
    var chunk = 128

    @OptionGroup var method: MethodOptions

    @Flag(help: "Print one JSON object (text, token ids, speeds, attention work) instead of streaming.")
    var json = false

    func validate() throws {
        let sources = [prompt != nil, promptFile != nil, syntheticPrompt != nil].filter { $0 }.count
        guard sources == 1 else { throw ValidationError("give exactly one of --prompt, --prompt-file, --synthetic-prompt") }
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0") }
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be >= 0") }
        guard topK >= 0 else { throw ValidationError("--top-k must be >= 0") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        if let n = syntheticPrompt, n <= 0 { throw ValidationError("--synthetic-prompt must be positive") }
        if chat && syntheticPrompt != nil { throw ValidationError("--chat needs a text prompt") }
    }

    func run() throws {
        let loaded = try modelFile.open()
        let llama = loaded.llama, config = llama.config, tokenizer = loaded.tokenizer

        let ids: [Int32]
        if let n = syntheticPrompt {
            ids = SyntheticPrompt.tokens(count: n, vocabulary: config.vocabularySize)
        } else {
            var text = try prompt ?? CLIOutput.readText(promptFile!)
            if chat { text = ChatTemplate(gguf: loaded.gguf).render(system: system, user: text) }
            ids = tokenizer.encode(text)
        }
        guard !ids.isEmpty else { throw ModelError.emptyPrompt }
        guard ids.count <= config.contextLength else {
            throw ModelError.contextOverflow(needed: ids.count, capacity: config.contextLength)
        }
        let capacity = context ?? min(config.contextLength, ids.count + maxTokens)
        let policy = try makeAttentionPolicy(method, layers: config.layers, geometry: config.geometry, modelID: llama.modelID)
        let session = try InferenceSession(model: llama, policy: policy, maxContext: capacity, chunkSize: chunk)

        let progress = ProgressBar(label: "prompt", total: ids.count)
        var start = Date()
        var logits = try session.prefill(ids) { done, _ in progress.update(done) }
        progress.finish()
        let promptSeconds = Date().timeIntervalSince(start)

        let prefillAttention = session.attentionSeconds
        var sampler = Sampler(SamplerOptions(temperature: temperature, topK: topK, topP: topP, seed: seed))
        var generated: [Int32] = []
        var stream = UTF8Stream()
        start = Date()
        var stop = "length"
        while generated.count < maxTokens {
            let next = sampler.sample(logits)
            if !ignoreEOS && tokenizer.isEndOfGeneration(next) { stop = "end of generation"; break }
            generated.append(next)
            if !json { CLIOutput.out(stream.push(tokenizer.decodeBytes([next]))) }
            guard generated.count < maxTokens else { break }
            if session.position >= capacity { stop = "context full"; break }
            logits = try session.step(next)
        }
        let genSeconds = Date().timeIntervalSince(start)
        if !json { CLIOutput.out(stream.flush() + "\n") }

        let stats = policy.stats
        let report = GenerationReport(
            method: policy.name, promptTokens: ids.count, generatedTokens: generated.count,
            promptSeconds: promptSeconds, generationSeconds: genSeconds, prefillAttentionSeconds: prefillAttention,
            decodeAttentionSeconds: session.attentionSeconds - prefillAttention,
            keysRead: stats.keysRead, denseKeys: stats.denseKeys, stop: stop)
        if json {
            var object = report.dictionary
            object["model"] = llama.modelID
            object["text"] = tokenizer.decode(generated)
            object["tokens"] = generated.map(Int.init)
            try CLIOutput.printJSON(object)
        } else {
            CLIOutput.err(report.summary)
        }
    }
}
