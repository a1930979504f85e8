import Testing
import KascadeEval

@Suite("Task generation")
struct TaskGeneratorTests {
    static let corpus = try! LicenseCorpus.load()

    static let cases: [(TaskKind, Int)] = TaskKind.generated.flatMap { t in [1024, 2048].map { (t, $0) } }

    @Test("the same seed gives the same items, another seed other items", arguments: cases)
    func deterministic(task: TaskKind, length: Int) throws {
        let a = TaskGenerator(seed: 7, counter: WordTokenCounter(), corpus: Self.corpus)
        let b = TaskGenerator(seed: 7, counter: WordTokenCounter(), corpus: Self.corpus)
        let c = TaskGenerator(seed: 8, counter: WordTokenCounter(), corpus: Self.corpus)
        let ia = try a.items(task, contextLength: length, count: 3)
        let ib = try b.items(task, contextLength: length, count: 3)
        let ic = try c.items(task, contextLength: length, count: 3)
        #expect(ia == ib)
        #expect(ia.map(\.context) != ic.map(\.context))
        #expect(Set(ia.map(\.id)).count == 3)
        // Item i does not depend on how many are asked for.
        #expect(try a.item(task, contextLength: length, index: 2) == ia[2])
    }

    @Test("the answer is in the context, exactly once for retrieval tasks", arguments: cases)
    func answerPresent(task: TaskKind, length: Int) throws {
        let gen = TaskGenerator(seed: 11, counter: WordTokenCounter(), corpus: Self.corpus)
        for item in try gen.items(task, contextLength: length, count: 6) {
            if task.isRetrieval {
                #expect(item.answerOccurrences == 1, "\(item.id): \(item.answerOccurrences) occurrences")
            } else {
                #expect(item.answerOccurrences >= 1, "\(item.id)")
            }
            #expect(!item.question.contains(item.answer))
        }
    }

    @Test("contexts fill the length but leave the reserve free", arguments: cases)
    func sized(task: TaskKind, length: Int) throws {
        let counter = WordTokenCounter()
        let gen = TaskGenerator(seed: 3, counter: counter, reserve: 160, corpus: Self.corpus)
        for item in try gen.items(task, contextLength: length, count: 3) {
            let n = counter.count(item.context)
            #expect(n <= length - 160, "\(item.id): \(n) tokens")
            #expect(n >= (length - 160) * 8 / 10, "\(item.id): only \(n) tokens")
        }
    }

    @Test("pass keys sit at the depth asked for", arguments: [1024, 4096])
    func passkeyDepth(length: Int) throws {
        let gen = TaskGenerator(seed: 5, counter: WordTokenCounter())
        let items = try gen.items(.passkey, contextLength: length, count: TaskGenerator.passkeyDepths.count)
        for (i, item) in items.enumerated() {
            let at = item.context.range(of: item.answer)!.lowerBound
            let depth = Double(item.context.distance(from: item.context.startIndex, to: at)) / Double(item.context.count)
            #expect(abs(depth - TaskGenerator.passkeyDepths[i]) < 0.08, "\(item.id) at \(depth)")
        }
    }

    @Test("every variable chain leads from a number to the asked variable")
    func chains() throws {
        let gen = TaskGenerator(seed: 9, counter: WordTokenCounter())
        for item in try gen.items(.variableTracking, contextLength: 1024, count: 4) {
            // Follow the chain backwards from the asked variable to its number.
            var name = String(item.question.split(separator: " ")[7].dropLast(1))
            var value: String?
            for _ in 0..<10 {
                guard let r = item.context.range(of: "VAR \(name) = ") else { break }
                let rest = item.context[r.upperBound...].prefix { $0 != "." }
                if rest.hasPrefix("VAR ") { name = String(rest.dropFirst(4)) } else { value = String(rest); break }
            }
            #expect(value == item.answer, "\(item.id)")
        }
    }
}
