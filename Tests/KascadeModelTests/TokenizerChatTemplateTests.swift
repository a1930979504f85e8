import Foundation
import Testing
@testable import KascadeModel

@Suite("Chat template")
struct TokenizerChatTemplateTests {
    @Test("takes SmolLM2's default system prompt from the GGUF template")
    func defaultPrompt() throws {
        let template = ChatTemplate(gguf: try DefaultTokenizer.file.get())
        #expect(template.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
    }

    @Test("renders ChatML with the default or the given system prompt", arguments: [nil, "Be brief."] as [String?])
    func render(system: String?) {
        let template = ChatTemplate(defaultSystemPrompt: "Default.")
        let text = template.render(system: system, user: "What is 2+2?")
        #expect(text == "<|im_start|>system\n\(system ?? "Default.")<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test("omits the system turn when neither is given")
    func noSystem() {
        let text = ChatTemplate(templateSource: "{% for m in messages %}{{'<|im_start|>' + m['role'] + '\\n'}}{% endfor %}").render(system: nil, user: "hi")
        #expect(text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test("the rendered prompt tokenizes into the control tokens around plain text")
    func tokenizes() throws {
        let tokenizer = try DefaultTokenizer.get()
        let ids = tokenizer.encode(ChatTemplate(defaultSystemPrompt: nil).render(system: "S", user: "U"))
        let imStart = try #require(tokenizer.id(of: "<|im_start|>")), imEnd = try #require(tokenizer.id(of: "<|im_end|>"))
        #expect(ids.filter { $0 == imStart }.count == 3 && ids.filter { $0 == imEnd }.count == 2)
        #expect(ids.first == imStart)
        #expect(tokenizer.decode(Array(ids.suffix(3))) == "assistant\n" || tokenizer.decode(Array(ids.suffix(2))) == "assistant\n")
    }
}
