import Testing
@testable import KascadeCore

@Suite("Top-k selection")
struct TopKTests {
    /// Brute force: sort every position by (score desc, index asc), take k, sort by position.
    static func reference(_ s: [Float], _ k: Int) -> [Int32] {
        let order = s.indices.sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 }
        return order.prefix(k).map { Int32($0) }.sorted()
    }

    @Test("equals a sort on random scores with ties", arguments: [1, 7, 100, 1000])
    func randomScores(count: Int) {
        var rng = SystemRandomNumberGenerator()
        for trial in 0..<50 {
            // Coarse values force ties.
            let s = (0..<count).map { _ in Float(Int.random(in: 0..<max(2, count / 4), using: &rng)) }
            let k = trial == 0 ? count : Int.random(in: 1...count, using: &rng)
            var scratch = [Int32](repeating: 0, count: count)
            var out = [Int32](repeating: -1, count: k)
            TopK.select(scores: s, count: count, k: k, scratch: &scratch, into: &out)
            #expect(out == Self.reference(s, k))
        }
    }
}
