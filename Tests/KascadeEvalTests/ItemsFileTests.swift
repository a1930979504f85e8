import Testing
import KascadeEval

@Suite("Tasks file")
struct ItemsFileTests {
    @Test("valid lines become items, blank lines are skipped")
    func parses() throws {
        let text = """
        {"context": "The sky is green.", "question": "What colour is the sky?", "answer": "green"}

        {"question": "q", "answer": "a", "context": "c", "extra": 1}
        """
        let items = try ItemsFile.parse(text)
        #expect(items.count == 2)
        #expect(items[0].answer == "green")
        #expect(items[1].id == "custom#3")
        #expect(items.allSatisfy { $0.task == .custom })
    }

    static let bad: [(String, Int)] = [
        ("{\"context\": \"c\", \"question\": \"q\", \"answer\": \"a\"}\n{\"context\": \"c\", \"question\": \"q\"}", 2),
        ("{\"context\": \"c\", \"question\": \"q\", \"answer\": \"a\"}\n\n{not json", 3),
        ("[1, 2]", 1),
        ("{\"context\": 5, \"question\": \"q\", \"answer\": \"a\"}", 1),
        ("{\"context\": \"c\", \"question\": \"q\", \"answer\": \"\"}", 1),
    ]

    @Test("a malformed line is reported with its line number", arguments: bad)
    func malformed(text: String, line: Int) {
        do {
            _ = try ItemsFile.parse(text)
            Issue.record("parsed malformed input")
        } catch {
            guard case .malformedItem(let l, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(l == line)
            #expect(error.description.contains("line \(line)"))
        }
    }

    @Test("a question whose answer is not in its document is refused at load time")
    func badQuestion() {
        let q = LicenseQuestion(document: "doc", question: "What?", answer: "absent words")
        #expect(throws: EvalError.answerNotInText(document: "doc", answer: "absent words")) {
            _ = try LicenseCorpus(documents: ["doc": "some present words"], questions: [q])
        }
    }

    @Test("every shipped question's answer is in its document")
    func shippedQuestions() throws {
        let corpus = try LicenseCorpus.load()
        #expect(corpus.questions.count >= 12)
        for q in corpus.questions { #expect(corpus.documents[q.document]!.contains(q.answer)) }
    }
}
