import Testing
@testable import KascadeModel

@Suite("Sampler")
struct SamplerTests {
    @Test("greedy picks the largest logit, lowest id on ties", arguments: [7, 100, 5000])
    func greedy(n: Int) {
        var rng = TestRandom(seed: UInt64(n))
        var logits = rng.normals(n)
        var s = Sampler(SamplerOptions())
        let best = logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!
        #expect(s.sample(logits) == Int32(best))
        logits[n - 1] = logits[best]
        #expect(s.sample(logits) == Int32(best))  // tie with a later id
        logits[best == 0 ? 1 : 0] = .nan  // NaN is never chosen
        #expect(s.sample(logits) == Int32(best))
    }

    @Test("equal seeds give equal draws; top-k 1 is greedy", arguments: [1, 2, 3] as [UInt64])
    func seeded(seed: UInt64) {
        var rng = TestRandom(seed: seed)
        let logits = rng.normals(300, scale: 2)
        var a = Sampler(SamplerOptions(temperature: 1, seed: seed))
        var b = Sampler(SamplerOptions(temperature: 1, seed: seed))
        var c = Sampler(SamplerOptions(temperature: 1, seed: seed + 100))
        let da = (0..<50).map { _ in a.sample(logits) }
        #expect(da == (0..<50).map { _ in b.sample(logits) })
        #expect(da != (0..<50).map { _ in c.sample(logits) })
        var k1 = Sampler(SamplerOptions(temperature: 5, topK: 1, seed: seed))
        var g = Sampler(SamplerOptions())
        #expect(k1.sample(logits) == g.sample(logits))
    }

    @Test("top-k and top-p restrict the draws; frequencies follow the softmax", arguments: [0.5, 1.0, 2.0] as [Float])
    func restrictsAndFollowsSoftmax(temperature: Float) {
        var rng = TestRandom(seed: 9)
        let logits = rng.normals(20, scale: 1.5)
        let ranked = logits.indices.sorted { logits[$0] > logits[$1] }
        var k = Sampler(SamplerOptions(temperature: temperature, topK: 3, seed: 1))
        let allowed = Set(ranked.prefix(3).map { Int32($0) })
        #expect((0..<500).allSatisfy { _ in allowed.contains(k.sample(logits)) })

        let e = logits.map { Foundation_exp(Double($0 / temperature)) }
        let z = e.reduce(0, +)
        let p = e.map { $0 / z }
        // Top-p: the smallest prefix of the ranking whose mass reaches 0.6.
        var mass = 0.0, prefix = 0
        while mass < 0.6 { mass += p[ranked[prefix]]; prefix += 1 }
        var tp = Sampler(SamplerOptions(temperature: temperature, topP: 0.6, seed: 2))
        let nucleus = Set(ranked.prefix(prefix).map { Int32($0) })
        #expect((0..<500).allSatisfy { _ in nucleus.contains(tp.sample(logits)) })

        var full = Sampler(SamplerOptions(temperature: temperature, seed: 3))
        let draws = 20000
        var counts = [Int](repeating: 0, count: logits.count)
        for _ in 0..<draws { counts[Int(full.sample(logits))] += 1 }
        for i in logits.indices {
            let expected = p[i] * Double(draws)
            let sd = (Double(draws) * p[i] * (1 - p[i])).squareRoot()
            #expect(abs(Double(counts[i]) - expected) <= 5 * sd + 3, "token \(i): \(counts[i]) vs \(expected)")
        }
    }
}
