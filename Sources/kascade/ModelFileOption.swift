import ArgumentParser

/// `--model`: the GGUF file a model command runs, shared by every command that loads a model.
struct ModelFileOption: ParsableArguments {
    @Option(help: "GGUF model file (default: $KASCADE_MODEL, else SmolLM2-135M-Instruct in the cache, installed on first use).")
    var model: String?

    /// Locates and opens the model (notes, such as an install, go to `log`).
    func open(log: (String) -> Void = CLIOutput.err) throws -> LoadedModel {
        try LoadedModel.open(model, log: log)
    }
}
