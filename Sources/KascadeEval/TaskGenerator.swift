/// Generates evaluation items deterministically from a seed at a context length in tokens.
///
/// The context of each item is sized to `contextLength - reserve` tokens under `counter`, leaving
/// room for the question, the chat template and the answer. Item `i` of a task at a length uses its
/// own random stream (`seed`, task, length, `i`), so items do not depend on how many are asked for.
public struct TaskGenerator {
    /// Seed of every stream.
    public let seed: UInt64
    /// Counts tokens to size the contexts.
    public let counter: any TokenCounter
    /// Tokens kept free for question, template and answer.
    public let reserve: Int
    /// Corpus for the QA task.
    public let corpus: LicenseCorpus?

    /// Depths at which the pass key is planted, cycled over the items.
    public static let passkeyDepths: [Double] = [0.1, 0.3, 0.5, 0.7, 0.9]

    /// Creates a generator; `corpus` is needed only for `.qa`.
    public init(seed: UInt64, counter: any TokenCounter, reserve: Int = 160, corpus: LicenseCorpus? = nil) {
        self.seed = seed
        self.counter = counter
        self.reserve = reserve
        self.corpus = corpus
    }

    /// `count` items of `task` at `contextLength` tokens.
    public func items(_ task: TaskKind, contextLength: Int, count: Int) throws(EvalError) -> [EvalItem] {
        var out: [EvalItem] = []
        for i in 0..<count { out.append(try item(task, contextLength: contextLength, index: i)) }
        return out
    }

    /// Item `index` of `task` at `contextLength` tokens.
    public func item(_ task: TaskKind, contextLength: Int, index: Int) throws(EvalError) -> EvalItem {
        let id = "\(task.rawValue)@\(contextLength)#\(index)"
        var rng = SeededGenerator(seed: seed, label: id)
        var filler = FillerText(seed: seed, label: id)
        let target = max(64, contextLength - reserve)
        switch task {
        case .passkey:
            return passkey(id: id, index: index, target: target, length: contextLength, rng: &rng, filler: &filler)
        case .multikey:
            return multikey(id: id, target: target, length: contextLength, rng: &rng, filler: &filler)
        case .kvRetrieval:
            return kvRetrieval(id: id, target: target, length: contextLength, rng: &rng)
        case .variableTracking:
            return variableTracking(id: id, target: target, length: contextLength, rng: &rng, filler: &filler)
        case .qa:
            guard let corpus else { throw .missingText(path: LicenseCorpus.directory) }
            return try corpus.qaItem(id: id, target: target, length: contextLength, counter: counter, rng: &rng)
        case .custom:
            throw .unknownTask(task.rawValue)
        }
    }

    private func passkey(id: String, index: Int, target: Int, length: Int,
                         rng: inout SeededGenerator, filler: inout FillerText) -> EvalItem {
        let key = rng.digits(5)
        let depth = Self.passkeyDepths[index % Self.passkeyDepths.count]
        let needle = NeedleContext.Needle(text: "The pass key is \(key). Remember it.", depth: depth)
        let context = "There is an important pass key hidden inside a lot of irrelevant text. Find it and memorize it. "
            + NeedleContext.build(target: target - 24, needles: [needle], filler: &filler, counter: counter)
        return EvalItem(id: id, task: .passkey, contextLength: length, context: context,
                        question: "What is the pass key? Answer with the number only.", answer: key)
    }

    private func multikey(id: String, target: Int, length: Int,
                          rng: inout SeededGenerator, filler: inout FillerText) -> EvalItem {
        let words = ["amber", "falcon", "harbor", "juniper", "lantern", "meadow", "orchid", "pepper",
                     "quartz", "saffron", "thimble", "velvet", "willow", "cobalt", "ember", "granite"]
        let keys = Array(words.shuffled(using: &rng).prefix(4))
        var values: [String] = []
        while values.count < keys.count {
            let v = rng.digits(7)
            if !values.contains(v) { values.append(v) }
        }
        let needles = keys.indices.map { i in
            NeedleContext.Needle(text: "One of the special magic numbers for \(keys[i]) is: \(values[i]).",
                                 depth: Double.random(in: 0.05...0.95, using: &rng))
        }
        let asked = Int.random(in: 0..<keys.count, using: &rng)
        let context = NeedleContext.build(target: target, needles: needles, filler: &filler, counter: counter)
        return EvalItem(id: id, task: .multikey, contextLength: length, context: context,
                        question: "What is the special magic number for \(keys[asked]) mentioned in the text above? Answer with the number only.",
                        answer: values[asked])
    }

    private func kvRetrieval(id: String, target: Int, length: Int, rng: inout SeededGenerator) -> EvalItem {
        func hex(_ n: Int) -> String {
            let digits = Array("0123456789abcdef")
            return String((0..<n).map { _ in digits[Int.random(in: 0..<16, using: &rng)] })
        }
        func uuid() -> String { "\(hex(8))-\(hex(4))-\(hex(4))" }
        let head = "JSON data:\n{"
        var lines: [String] = []
        var seen = Set<String>()
        var total = counter.count(head) + 1
        while true {
            let k = uuid(), v = uuid()
            guard !seen.contains(k), !seen.contains(v) else { continue }
            let line = "\"\(k)\": \"\(v)\","
            let t = counter.count(line)
            if total + t > target { break }
            seen.insert(k); seen.insert(v)
            lines.append(line)
            total += t
        }
        if lines.isEmpty { lines.append("\"\(uuid())\": \"\(uuid())\",") }
        var text = head + "\n" + lines.joined(separator: "\n") + "\n}"
        var measured = counter.count(text)
        while measured > target && lines.count > 1 {
            var excess = measured - target
            while excess > 0 && lines.count > 1 { excess -= counter.count(lines.removeLast()) }
            text = head + "\n" + lines.joined(separator: "\n") + "\n}"
            measured = counter.count(text)
        }
        let asked = Int.random(in: 0..<lines.count, using: &rng)
        let parts = lines[asked].split(separator: "\"")
        let key = String(parts[0]), value = String(parts[2])
        return EvalItem(id: id, task: .kvRetrieval, contextLength: length, context: text,
                        question: "Extract the value corresponding to the specified key in the JSON object above. Key: \"\(key)\". Answer with the value only.",
                        answer: value)
    }

    private func variableTracking(id: String, target: Int, length: Int,
                                  rng: inout SeededGenerator, filler: inout FillerText) -> EvalItem {
        func name() -> String {
            let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            return String((0..<5).map { _ in letters[Int.random(in: 0..<26, using: &rng)] })
        }
        var used = Set<String>()
        func fresh() -> String { while true { let n = name(); if used.insert(n).inserted { return n } } }
        let chains = 3, hops = 4
        var values: [String] = []
        while values.count < chains { let v = rng.digits(5); if !values.contains(v) { values.append(v) } }
        var needles: [NeedleContext.Needle] = []
        var lastNames: [String] = []
        for c in 0..<chains {
            let depths = (0..<hops).map { _ in Double.random(in: 0.02...0.98, using: &rng) }.sorted()
            var prev = fresh()
            needles.append(.init(text: "VAR \(prev) = \(values[c]).", depth: depths[0]))
            for h in 1..<hops {
                let next = fresh()
                needles.append(.init(text: "VAR \(next) = VAR \(prev).", depth: depths[h]))
                prev = next
            }
            lastNames.append(prev)
        }
        let asked = Int.random(in: 0..<chains, using: &rng)
        let context = "Memorize and track the chain of variable assignments hidden in the following text. "
            + NeedleContext.build(target: target - 20, needles: needles, filler: &filler, counter: counter)
        return EvalItem(id: id, task: .variableTracking, contextLength: length, context: context,
                        question: "What is the numeric value of VAR \(lastNames[asked])? Follow the chain of assignments. Answer with the number only.",
                        answer: values[asked])
    }
}
