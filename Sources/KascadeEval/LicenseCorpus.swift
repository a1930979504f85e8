import Foundation

/// Long real text for the QA task and the fidelity measurement: licence documents present on a fresh
/// Debian/Ubuntu machine under `/usr/share/common-licenses`, disjoint from the calibration set.
public struct LicenseCorpus: Sendable {
    /// Where the documents live.
    public static let directory = "/usr/share/common-licenses"
    /// The documents used, in a fixed order.
    public static let documentNames = ["GPL-3", "GFDL-1.3", "Apache-2.0", "LGPL-2", "LGPL-3", "Artistic"]

    /// Document name to its text.
    public let documents: [String: String]
    /// The questions, each checked to have its answer in its document.
    public let questions: [LicenseQuestion]

    /// Loads the documents from `directory` and checks every question's answer is verbatim in its document.
    public static func load(directory: String = LicenseCorpus.directory,
                            questions: [LicenseQuestion] = LicenseQuestion.all) throws(EvalError) -> LicenseCorpus {
        var docs: [String: String] = [:]
        for name in documentNames {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path),
                  let text = String(data: data, encoding: .utf8) else { throw .missingText(path: path) }
            docs[name] = text
        }
        return try LicenseCorpus(documents: docs, questions: questions)
    }

    /// A corpus over given texts; throws when a question's document is absent or lacks its answer.
    public init(documents: [String: String], questions: [LicenseQuestion]) throws(EvalError) {
        for q in questions {
            guard let text = documents[q.document] else { throw .missingText(path: q.document) }
            guard Scoring.occurrences(of: q.answer, in: text) > 0 else {
                throw .answerNotInText(document: q.document, answer: q.answer)
            }
        }
        self.documents = documents
        self.questions = questions
    }

    /// Paragraphs of a text: blocks separated by blank lines, trailing spaces removed.
    public static func paragraphs(_ text: String) -> [String] {
        var out: [String] = []
        var current: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var trimmed = line
            while let l = trimmed.last, l == " " || l == "\t" || l == "\r" { trimmed = trimmed.dropLast() }
            if trimmed.isEmpty {
                if !current.isEmpty { out.append(current.joined(separator: "\n")); current = [] }
            } else {
                current.append(trimmed)
            }
        }
        if !current.isEmpty { out.append(current.joined(separator: "\n")) }
        return out
    }

    /// A QA item: a window of about `target` tokens of paragraphs holding the answer's paragraph at a
    /// seeded depth. The question's document sits third in a seeded order of all documents, so the
    /// window usually spans several documents.
    func qaItem(id: String, target: Int, length: Int, counter: any TokenCounter,
                rng: inout SeededGenerator) throws(EvalError) -> EvalItem {
        guard !questions.isEmpty else { throw .missingText(path: Self.directory) }
        let q = questions[Int.random(in: 0..<questions.count, using: &rng)]
        var others = documents.keys.filter { $0 != q.document }.sorted()
        others.shuffle(using: &rng)
        var order = others
        order.insert(q.document, at: min(2, order.count))
        var paras: [String] = []
        var answerPara = -1
        for name in order {
            let ps = Self.paragraphs(documents[name]!)
            if name == q.document, let i = ps.firstIndex(where: { $0.contains(q.answer) }) {
                answerPara = paras.count + i
            }
            paras.append(contentsOf: ps)
        }
        guard answerPara >= 0 else { throw .answerNotInText(document: q.document, answer: q.answer) }
        let counts = paras.map { counter.count($0) + 1 }
        let depth = Double.random(in: 0.1...0.9, using: &rng)
        var start = answerPara
        var before = 0
        while start > 0 && Double(before + counts[start - 1]) <= depth * Double(target) {
            start -= 1
            before += counts[start]
        }
        var end = answerPara + 1
        var total = before + counts[answerPara]
        while end < paras.count && total + counts[end] <= target { total += counts[end]; end += 1 }
        while start > 0 && total + counts[start - 1] <= target { start -= 1; total += counts[start] }
        var window = Array(paras[start..<end])
        var text = window.joined(separator: "\n\n")
        while counter.count(text) > target && window.count > 1 {
            if start + window.count - 1 > answerPara { window.removeLast() } else { window.removeFirst(); start += 1 }
            text = window.joined(separator: "\n\n")
        }
        return EvalItem(id: id, task: .qa, contextLength: length, context: text,
                        question: q.question + " Answer briefly, quoting the text.", answer: q.answer)
    }
}
