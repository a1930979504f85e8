import Testing
import KascadeCore
@testable import KascadeCUDA

@Suite("Prefill check inputs")
struct PrefillHostInputsTests {
    @Test("each sequence sees its own queries, keys and values, rounded to the element type", arguments: KVDType.allCases)
    func perSequenceViews(dtype: KVDType) throws {
        let geo = try AttentionGeometry(queryHeads: 4, kvHeads: 2, headDim: 64)
        var rng = SplitMix(seed: 3)
        let x = PrefillHostInputs(geometry: geo, batch: 3, queryCount: 5, length: 7, dtype: dtype, rng: &rng)
        #expect(x.q.values.count == 3 * 4 * 5 * 64 && x.k.values.count == 3 * 2 * 7 * 64)
        #expect(x.q.values.allSatisfy { abs($0) <= 2.5 } && x.v.values.allSatisfy { abs($0) <= 1 })
        #expect(zip(x.k.bits, x.k.values).allSatisfy { HalfPrecision.value($0, dtype) == $1 })
        var seen: [Int] = []
        x.forEachSequence { b, queries, view in
            seen.append(b)
            #expect(view.length == 7)
            #expect(queries[0] == x.q.values[b * 4 * 5 * 64] && queries[4 * 5 * 64 - 1] == x.q.values[(b + 1) * 4 * 5 * 64 - 1])
            #expect(view.keys[0] == x.k.values[b * 2 * 7 * 64] && view.values[2 * 7 * 64 - 1] == x.v.values[(b + 1) * 2 * 7 * 64 - 1])
        }
        #expect(seen == [0, 1, 2])
    }
}
