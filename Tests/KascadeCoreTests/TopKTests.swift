import Testing
@testable import KascadeCore

@Suite("Top-k selection")
struct TopKTests {
    /// Brute force: sort every position by (score desc, index asc), take k, sort by position.
    static func reference(_ s: [Float], _ k: Int) -> [Int32] {
        let order = s.indices.sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 }
        return order.prefix(k).map { Int32($0) }.sorted()
    }

    @Test("equals a sort on random scores with ties", arguments: [1, 7, 100, 255, 256, 1000, 5000])
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

    /// The reference order with NaN last and `-0 == +0`, as `TopK` ranks them.
    static func referenceNaN(_ s: [Float], _ k: Int) -> [Int32] {
        func rank(_ a: Int, _ b: Int) -> Bool {
            let x = s[a], y = s[b]
            if x.isNaN != y.isNaN { return y.isNaN }
            if !x.isNaN && x != y { return x > y }
            return a < b
        }
        return s.indices.sorted(by: rank).prefix(k).map { Int32($0) }.sorted()
    }

    @Test("ranks negatives, signed zeros, infinities and NaN like a sort", arguments: [50, 300, 3000])
    func specialValues(count: Int) {
        var rng = SystemRandomNumberGenerator()
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .nan, -1, 1, .leastNonzeroMagnitude, -.leastNonzeroMagnitude]
        for _ in 0..<30 {
            let s = (0..<count).map { _ -> Float in
                Bool.random(using: &rng) ? specials.randomElement(using: &rng)! : Float.random(in: -3...3, using: &rng)
            }
            let k = Int.random(in: 1...count, using: &rng)
            var scratch = [Int32](repeating: 0, count: count)
            var out = [Int32](repeating: -1, count: k)
            TopK.select(scores: s, count: count, k: k, scratch: &scratch, into: &out)
            #expect(out == Self.referenceNaN(s, k))
        }
    }
}
