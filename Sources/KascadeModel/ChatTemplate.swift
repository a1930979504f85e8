import Foundation

/// ChatML prompt formatting (`<|im_start|>role\ncontent<|im_end|>\n`), as SmolLM2's GGUF template.
///
/// Only the ChatML shape is implemented, for every model; what is taken from the GGUF
/// `tokenizer.chat_template` is the default system prompt that template inserts when the
/// conversation does not start with one (SmolLM2: "You are a helpful AI assistant named SmolLM,
/// trained by Hugging Face"). A template without such a prompt gives no system turn by default.
public struct ChatTemplate: Sendable, Hashable {
    /// System prompt used when `render` gets none; nil: no system turn then.
    public let defaultSystemPrompt: String?

    /// A template with an explicit default system prompt.
    public init(defaultSystemPrompt: String?) {
        self.defaultSystemPrompt = defaultSystemPrompt
    }

    /// The template of a GGUF file: the default system prompt of its `tokenizer.chat_template`.
    public init(gguf: GGUFFile) {
        self.init(templateSource: gguf.string("tokenizer.chat_template"))
    }

    /// The template described by Jinja source `templateSource` (nil: no default system prompt).
    public init(templateSource: String?) {
        defaultSystemPrompt = templateSource.flatMap(Self.defaultSystemPrompt(in:))
    }

    /// The prompt for one user turn, ending with the assistant header so the model answers next.
    /// - Parameters:
    ///   - system: system prompt; nil uses `defaultSystemPrompt`.
    ///   - user: the user's message.
    public func render(system: String?, user: String) -> String {
        var text = ""
        if let prompt = system ?? defaultSystemPrompt { text += Self.turn("system", prompt) }
        text += Self.turn("user", user)
        text += "<|im_start|>assistant\n"
        return text
    }

    private static func turn(_ role: String, _ content: String) -> String {
        "<|im_start|>\(role)\n\(content)<|im_end|>\n"
    }

    /// The literal system turn a ChatML Jinja template writes for conversations without one:
    /// the text between `<|im_start|>system\n` and `<|im_end|>` inside a quoted string literal.
    static func defaultSystemPrompt(in source: String) -> String? {
        let marker = "<|im_start|>system"
        guard let markerRange = source.range(of: marker) else { return nil }
        // The marker must be inside a string literal (not built from `message['role']`).
        let before = source[..<markerRange.lowerBound]
        guard let quote = before.last, quote == "'" || quote == "\"" else { return nil }
        var rest = source[markerRange.upperBound...]
        if rest.hasPrefix("\\n") { rest = rest.dropFirst(2) } else if rest.hasPrefix("\n") { rest = rest.dropFirst() } else { return nil }
        guard let end = rest.range(of: "<|im_end|>") else { return nil }
        let body = rest[..<end.lowerBound]
        guard !body.contains(String(quote)), !body.isEmpty else { return nil }
        return body.replacingOccurrences(of: "\\n", with: "\n")
    }
}
