import KascadeModel

/// The demo's long prompt: filler text with a five-digit pass key hidden at a chosen depth, the
/// question after it, rendered with the chat template and primed with the start of the answer.
struct DemoPrompt {
    /// What fills the prompt around the pass key.
    enum Filler: String, CaseIterable {
        /// One paragraph repeated (the pass-key retrieval test of Mohtashami and Jaggi, 2023).
        case repeated
        /// Varied sentences drawn from word lists with the seed.
        case prose
    }

    /// The hidden pass key.
    let passkey: String
    /// Token ids of the whole prompt.
    let tokens: [Int32]
    /// Index of the first token of the sentence that states the pass key.
    let needlePosition: Int

    static let paragraph = " The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
    static let instruction = "There is an important piece of information hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information there.\n\n"
    static let question = "\n\nWhat is the pass key?"
    /// Written after the assistant header so the answer starts with the key.
    static let answerStart = "The pass key is "

    /// A prompt of about `targetTokens` tokens with the key at `depth` (0: start, 1: end of the filler).
    static func build(tokenizer: BPETokenizer, template: ChatTemplate, targetTokens: Int, depth: Double,
                      filler: Filler, seed: UInt64) -> DemoPrompt {
        var random = seed
        let passkey = String(10000 + Int(next(&random) % 90000))
        let needle = " The pass key is \(passkey). Remember it. \(passkey) is the pass key."
        func render(_ sentences: [String], _ before: Int) -> String {
            let user = instruction + String((sentences[..<before].joined() + needle + sentences[before...].joined()).dropFirst())
                + question
            return template.render(system: nil, user: user) + answerStart
        }
        // Sentences until the filler alone reaches the target (sentences tokenize independently
        // because each starts with a space).
        let fixed = tokenizer.encode(render([], 0)).count
        var sentences: [String] = []
        var count = 0
        while count < targetTokens - fixed {
            let sentence = filler == .repeated ? paragraph : proseSentence(&random)
            count += tokenizer.encode(sentence).count
            if count > targetTokens - fixed && !sentences.isEmpty { break }
            sentences.append(sentence)
        }
        let before = Int((Double(sentences.count) * min(max(depth, 0), 1)).rounded())
        let text = render(sentences, before)
        let prefix = text.range(of: needle).map { String(text[..<$0.lowerBound]) } ?? ""
        return DemoPrompt(passkey: passkey, tokens: tokenizer.encode(text), needlePosition: tokenizer.encode(prefix).count)
    }

    private static let subjects = ["The old farmer", "A young painter", "The river", "My neighbour", "The small library",
                                   "A travelling merchant", "The city council", "The baker", "An orange cat", "The teacher",
                                   "A quiet student", "The fishing boat", "The mountain village", "A tall lighthouse"]
    private static let verbs = ["walked past", "looked at", "talked about", "painted", "remembered", "forgot",
                                "repaired", "visited", "described", "carried", "watched", "counted"]
    private static let objects = ["the wooden bridge", "a basket of apples", "the morning market", "an old map",
                                  "the garden wall", "a letter from home", "the winter harvest", "the broken clock",
                                  "a pile of books", "the evening train", "the stone well", "a field of wheat"]
    private static let times = ["in the morning", "after lunch", "before the rain", "on Sunday", "at dusk",
                                "during the festival", "last autumn", "every spring", "at noon", "late at night"]

    /// One sentence of prose such as " The baker repaired the stone well at dusk."
    private static func proseSentence(_ random: inout UInt64) -> String {
        func pick(_ words: [String]) -> String { words[Int(next(&random) % UInt64(words.count))] }
        return " \(pick(subjects)) \(pick(verbs)) \(pick(objects)) \(pick(times))."
    }

    /// SplitMix64 step.
    private static func next(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
