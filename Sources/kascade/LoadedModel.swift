import KascadeModel

/// A GGUF model opened for a command: the file, its LLaMA weights and its tokenizer.
struct LoadedModel {
    /// The memory-mapped file (metadata, chat template).
    let gguf: GGUFFile
    /// The weights and configuration.
    let llama: LlamaModel
    /// The model's tokenizer.
    let tokenizer: BPETokenizer

    /// Finds the model (`--model`, `$KASCADE_MODEL`, the cache, else installs the default; notes go to `log`)
    /// and opens it.
    static func open(_ explicit: String?, log: (String) -> Void = CLIOutput.err) throws -> LoadedModel {
        let path = try ModelLocator.resolve(explicit: explicit, log: log)
        let gguf = try GGUFFile(path: path)
        return LoadedModel(gguf: gguf, llama: try LlamaModel(gguf: gguf), tokenizer: try BPETokenizer(gguf: gguf))
    }
}
