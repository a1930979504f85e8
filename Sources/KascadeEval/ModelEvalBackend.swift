import Foundation
import KascadeCore
import KascadeModel

/// The evaluation backend on a real LLaMA-family model: chat-template prompts, greedy decoding,
/// teacher-forced logits, with any attention method.
///
/// One `InferenceSession` serves every item; its attention goes through a `SwitchablePolicy`.
/// Sharing the dense prefill: the prompt is prefilled once with dense attention and its last-token
/// logits kept; dense and each decode-only method (Quest, Twilight, vAttention) then generate from
/// that cache — the session is truncated back to the prompt between them and the method's policy is
/// reset, so the first token comes from the dense prompt logits and every following step runs under
/// the method. Methods that also change prefill (Kascade and its ablations, StreamingLLM) prefill the
/// prompt again under their own policy. Fidelity works the same way on `tokens[0..<start]`.
public final class ModelEvalBackend: EvalBackend {
    /// The model.
    public let model: LlamaModel
    /// Its tokenizer.
    public let tokenizer: BPETokenizer
    /// Its chat template.
    public let template: ChatTemplate
    public let modelID: String
    public let contextLimit: Int
    public var vocabularySize: Int { model.config.vocabularySize }
    public let counter: any TokenCounter

    private let session: InferenceSession
    private let switcher: SwitchablePolicy
    private let dense: AttentionPolicy
    private let makePolicy: (MethodSpec) throws -> AttentionPolicy
    private var policies: [String: AttentionPolicy] = [:]
    private var promptCache: (id: String, tokens: [Int32])?
    /// What the session's cache holds as a dense prefill: a key, its length and last-token logits.
    private var sharedPrefill: (key: String, length: Int, logits: [Float])?

    /// Creates the backend; `makePolicy` builds a method's policy (called once per method spec).
    /// - Parameter maxContext: KV cache capacity (default: the model's context length).
    public init(model: LlamaModel, tokenizer: BPETokenizer, template: ChatTemplate, maxContext: Int? = nil,
                makePolicy: @escaping (MethodSpec) throws -> AttentionPolicy) throws {
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        self.makePolicy = makePolicy
        modelID = model.modelID
        dense = DenseAttention()
        switcher = SwitchablePolicy(dense)
        session = try InferenceSession(model: model, policy: switcher, maxContext: maxContext)
        contextLimit = session.capacity
        counter = BPETokenCounter(tokenizer)
    }

    private func policy(_ m: MethodSpec) throws -> AttentionPolicy {
        if m.kind == .dense { return dense }
        if let p = policies[m.label] { return p }
        let p = try makePolicy(m)
        policies[m.label] = p
        return p
    }

    private func promptTokens(of item: EvalItem) -> [Int32] {
        if let c = promptCache, c.id == item.id + item.fingerprint { return c.tokens }
        let text = template.render(system: nil, user: item.context + "\n\n" + item.question)
        let tokens = tokenizer.encode(text, parseSpecial: true)
        promptCache = (item.id + item.fingerprint, tokens)
        return tokens
    }

    public func promptTokens(_ item: EvalItem) throws -> Int { promptTokens(of: item).count }

    public func tokenize(_ text: String) throws -> [Int32] { tokenizer.encode(text, parseSpecial: false) }

    /// Leaves the session holding the dense prefill of `tokens` (reusing it when it already does) and
    /// returns the last token's logits.
    private func densePrefill(_ tokens: ArraySlice<Int32>, key: String) throws -> [Float] {
        if let s = sharedPrefill, s.key == key, s.length == tokens.count, session.position >= s.length {
            session.truncate(to: s.length)
            return s.logits
        }
        switcher.current = dense
        session.reset()
        let logits = try session.prefill(Array(tokens))
        sharedPrefill = (key, tokens.count, logits)
        return logits
    }

    /// Prefills `tokens` under `m` and returns the last logits; shares the dense prefill when `m` allows.
    private func prefill(_ tokens: ArraySlice<Int32>, key: String, method m: MethodSpec) throws -> [Float] {
        if m.kind == .dense || m.kind.isDecodeOnly {
            let logits = try densePrefill(tokens, key: key)
            switcher.current = try policy(m)
            switcher.current.reset()
            return logits
        }
        sharedPrefill = nil
        switcher.current = try policy(m)
        session.reset()
        return try session.prefill(Array(tokens))
    }

    public func answer(_ item: EvalItem, method m: MethodSpec, maxNewTokens: Int) throws -> GeneratedAnswer {
        let tokens = promptTokens(of: item)
        var logits = try prefill(tokens[...], key: "item|" + item.id + item.fingerprint, method: m)
        let before = switcher.stats
        var sampler = Sampler(SamplerOptions())
        var generated: [Int32] = []
        var steps = 0
        while generated.count < maxNewTokens {
            let next = sampler.sample(logits)
            if tokenizer.isEndOfGeneration(next) { break }
            generated.append(next)
            if generated.count == maxNewTokens || session.position >= contextLimit { break }
            logits = try session.step(next)
            steps += 1
        }
        let after = switcher.stats
        let per = Double(max(steps, 1) * model.config.layers * model.config.queryHeads)
        return GeneratedAnswer(text: tokenizer.decode(generated), steps: steps,
                               keysPerStep: steps > 0 ? (after.keysRead - before.keysRead) / per : 0,
                               denseKeysPerStep: steps > 0 ? (after.denseKeys - before.denseKeys) / per : 0)
    }

    public func decodeLogits(_ tokens: [Int32], start: Int, method m: MethodSpec) throws -> [Float] {
        precondition(start >= 1 && start < tokens.count, "fidelity start outside the text")
        var key: UInt64 = 0xcbf2_9ce4_8422_2325
        for t in tokens[..<start] { key = (key ^ UInt64(UInt32(bitPattern: t))) &* 0x0000_0100_0000_01b3 }
        _ = try densePrefill(tokens[..<start], key: "text|\(start)|\(key)")
        switcher.current = try policy(m)
        switcher.current.reset()
        let vocab = vocabularySize
        var out = [Float]()
        out.reserveCapacity((tokens.count - 1 - start) * vocab)
        for t in start..<(tokens.count - 1) {
            out += try session.step(tokens[t])
        }
        return out
    }
}
