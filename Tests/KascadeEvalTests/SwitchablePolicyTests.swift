import Testing
import KascadeCore
import KascadeEval

@Suite("Switchable policy")
struct SwitchablePolicyTests {
    final class Counting: AttentionPolicy {
        let name: String
        var stats = AttentionStats()
        var resets = 0
        init(_ name: String) { self.name = name }
        func reset() { resets += 1; stats = AttentionStats() }
        func attend(layer: Int, queries: UnsafePointer<Float>, queryCount: Int,
                    kv: KVCacheView, output: UnsafeMutablePointer<Float>) throws {
            stats.record(keys: Double(kv.length), dense: Double(kv.length))
            output[0] = Float(layer)
        }
    }

    @Test("calls, stats and resets go to the current policy only", arguments: [1, 3])
    func forwards(calls: Int) throws {
        let a = Counting("a"), b = Counting("b")
        let s = SwitchablePolicy(a)
        let geometry = try AttentionGeometry(queryHeads: 1, kvHeads: 1, headDim: 1)
        var keys: [Float] = [0, 0, 0, 0], out: [Float] = [0]
        let q: [Float] = [1]
        try keys.withUnsafeBufferPointer { k in
            let view = KVCacheView(keys: k.baseAddress!, values: k.baseAddress!, length: 4, capacity: 4, geometry: geometry)
            for l in 0..<calls { try s.attend(layer: l, queries: q, queryCount: 1, kv: view, output: &out) }
            s.current = b
            try s.attend(layer: 7, queries: q, queryCount: 1, kv: view, output: &out)
        }
        #expect(a.stats.calls == calls && b.stats.calls == 1)
        #expect(s.name == "b" && s.stats.calls == 1 && out[0] == 7)
        s.reset()
        #expect(b.resets == 1 && a.resets == 0)
        _ = keys
    }
}
