import Foundation

/// Speeds and attention work of one `generate` run.
struct GenerationReport {
    let method: String
    let promptTokens: Int
    let generatedTokens: Int
    let promptSeconds: Double
    let generationSeconds: Double
    let prefillAttentionSeconds: Double
    let decodeAttentionSeconds: Double
    let keysRead: Double
    let denseKeys: Double
    let stop: String

    var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
    var generationTokensPerSecond: Double { generationSeconds > 0 ? Double(generatedTokens) / generationSeconds : 0 }
    /// Attention time per generated token, milliseconds.
    var decodeAttentionMsPerToken: Double { generatedTokens > 0 ? 1000 * decodeAttentionSeconds / Double(generatedTokens) : 0 }
    /// Share of dense attention's key reads that the method skipped.
    var workSaved: Double { denseKeys > 0 ? 1 - keysRead / denseKeys : 0 }

    var dictionary: [String: Any] {
        ["method": method, "prompt_tokens": promptTokens, "generated_tokens": generatedTokens,
         "prompt_seconds": promptSeconds, "prompt_tokens_per_s": promptTokensPerSecond,
         "generation_seconds": generationSeconds, "generation_tokens_per_s": generationTokensPerSecond,
         "prefill_attention_seconds": prefillAttentionSeconds, "decode_attention_seconds": decodeAttentionSeconds,
         "decode_attention_ms_per_token": decodeAttentionMsPerToken, "keys_read": keysRead, "dense_keys": denseKeys,
         "attention_work_saved": workSaved, "stop": stop]
    }

    var summary: String {
        func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }
        return "[\(method)] prompt: \(promptTokens) tokens, \(f(promptTokensPerSecond)) tokens/s | "
            + "generation: \(generatedTokens) tokens, \(f(generationTokensPerSecond)) tokens/s (\(stop)) | "
            + "attention: prefill \(f(prefillAttentionSeconds, 2)) s, decode \(f(decodeAttentionMsPerToken, 2)) ms/token, "
            + "\(f(100 * workSaved))% of dense key reads saved"
    }
}
