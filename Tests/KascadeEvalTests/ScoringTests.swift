import Testing
import KascadeEval

@Suite("Scoring")
struct ScoringTests {
    static let containsCases: [(String, String, Bool)] = [
        ("The pass key is 68231.", "68231", true),
        ("68231", "68231", true),
        ("6823", "68231", false),
        ("It was published on 29  June\n2007.", "29 June 2007", true),
        ("YOYODYNE, Inc.", "Yoyodyne", true),
        ("I do not know.", "68231", false),
        ("anything", "", false),
    ]

    @Test("contains ignores case and whitespace runs", arguments: containsCases)
    func contains(generated: String, answer: String, expected: Bool) {
        #expect(Scoring.contains(generated, answer: answer) == expected)
    }

    static let exactCases: [(String, String, Bool)] = [
        ("68231", "68231", true),
        (" \"68231.\" ", "68231", true),
        ("The pass key is 68231.", "68231", false),
        ("Fifty percent", "fifty percent", true),
        ("", "x", false),
    ]

    @Test("exact match ignores surrounding quotes and punctuation only", arguments: exactCases)
    func exact(generated: String, answer: String, expected: Bool) {
        #expect(Scoring.exactMatch(generated, answer: answer) == expected)
    }

    @Test("occurrences counts non-overlapping exact matches")
    func occurrences() {
        #expect(Scoring.occurrences(of: "12", in: "12 312 1212") == 4)
        #expect(Scoring.occurrences(of: "aa", in: "aaa") == 1)
        #expect(Scoring.occurrences(of: "x", in: "") == 0)
    }
}
