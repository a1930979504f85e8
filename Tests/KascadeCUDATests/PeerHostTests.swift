import KascadeCore
import Testing
@testable import KascadeCUDA

@Suite("Peer-method GPU references and errors without a GPU")
struct PeerHostTests {
    static func inputs(h: Int, g: Int, d: Int, n: Int, seed: UInt64) -> (q: [Float], k: [Float], v: [Float], geo: AttentionGeometry) {
        var rng = SplitMix(seed: seed)
        let geo = try! AttentionGeometry(queryHeads: h, kvHeads: g, headDim: d)
        let q = HalfPrecision.round((0..<(h * d)).map { _ in rng.uniform() * 2.5 }, .bf16).values
        let k = HalfPrecision.round((0..<(g * n * d)).map { _ in rng.uniform() }, .bf16).values
        let v = HalfPrecision.round((0..<(g * n * d)).map { _ in rng.uniform() }, .bf16).values
        return (q, k, v, geo)
    }

    static func run(_ policy: AttentionPolicy, _ x: (q: [Float], k: [Float], v: [Float], geo: AttentionGeometry), n: Int, layer: Int = 2) -> [Float] {
        var out = [Float](repeating: 0, count: x.geo.queryHeads * x.geo.headDim)
        x.k.withUnsafeBufferPointer { kp in x.v.withUnsafeBufferPointer { vp in
            let view = KVCacheView(keys: kp.baseAddress!, values: vp.baseAddress!, length: n, capacity: n, geometry: x.geo)
            try! policy.attend(layer: layer, queries: x.q, queryCount: 1, kv: view, output: &out)
        } }
        return out
    }

    static func withView<R>(_ x: (q: [Float], k: [Float], v: [Float], geo: AttentionGeometry), n: Int,
                            _ body: (UnsafePointer<Float>, KVCacheView) -> R) -> R {
        x.k.withUnsafeBufferPointer { kp in x.v.withUnsafeBufferPointer { vp in x.q.withUnsafeBufferPointer { qp in
            body(qp.baseAddress!, KVCacheView(keys: kp.baseAddress!, values: vp.baseAddress!, length: n, capacity: n, geometry: x.geo))
        } } }
    }

    @Test("the GPU policies of Quest, Twilight and vAttention open or give a one-line CUDA error",
          arguments: [CUDAAttention.Method.quest(try! Budget()), .twilight(try! Budget(), baseFraction: 0.25, topP: 0.95),
                      .vattention(try! Budget(), VAttentionGPUConfig())])
    func oneLineError(method: CUDAAttention.Method) {
        do {
            let p = try CUDAAttention(method: method, dtype: .bf16)
            #expect(["quest", "twilight", "vattention"].contains(p.name))
        } catch {
            let text = String(describing: error)
            #expect(!text.contains("\n"))
            #expect(text.hasPrefix("CUDA") || text.hasPrefix("NVRTC"))
        }
    }

    @Test("Quest's reference pages reproduce the core policy's output", arguments: [(8, 2, 64, 777), (9, 3, 128, 1500), (4, 4, 64, 40)])
    func questPages(h: Int, g: Int, d: Int, n: Int) {
        let x = Self.inputs(h: h, g: g, d: d, n: n, seed: UInt64(n))
        let quest = QuestAttention()
        let core = Self.run(quest, x, n: n)
        let keep = quest.pagesToKeep(contextLength: n)
        let ref = Self.withView(x, n: n) { q, kv -> [Float] in
            let sel = PeerReference.questPages(q: q, kv: kv, keep: keep)
            #expect(sel.pages.allSatisfy { $0.count == min(keep, (n + 15) / 16) && $0.last == Int32((n - 1) / 16) })
            return (0..<h).flatMap { hh in
                PeerReference.attend(q: q, kv: kv, head: hh, positions: sel.pages[hh].flatMap { p in (Int(p) * 16..<min(n, Int(p) * 16 + 16)).map { Int32($0) } })
            }
        }
        #expect(DecodeCheck.relError(ref, core) < 1e-5)
    }

    @Test("Twilight's reference kept sets match the core policy's kept sizes and output", arguments: [(8, 2, 64, 2000), (4, 1, 128, 3001)])
    func twilightKept(h: Int, g: Int, d: Int, n: Int) {
        let x = Self.inputs(h: h, g: g, d: d, n: n, seed: UInt64(n) ^ 77)
        let tw = TwilightAttention()
        let core = Self.run(tw, x, n: n)
        let keep = min((n + 15) / 16, max(1, (tw.candidateBudget(contextLength: n) + 15) / 16))
        let (ref, sizes) = Self.withView(x, n: n) { q, kv -> ([Float], [Int]) in
            let pages = PeerReference.questPages(q: q, kv: kv, keep: keep).pages
            let cand = pages.map { $0.flatMap { p in (Int(p) * 16..<min(n, Int(p) * 16 + 16)).map { Int32($0) } } }
            let pruned = PeerReference.twilightKept(q: q, kv: kv, candidates: cand, topP: tw.topP)
            let out = (0..<h).flatMap { PeerReference.attend(q: q, kv: kv, head: $0, positions: pruned[$0].kept) }
            return (out, pruned.map { $0.kept.count })
        }
        for (a, b) in zip(sizes, tw.lastKeptKeys) { #expect(abs(a - b) <= 1) }
        #expect(sizes.allSatisfy { $0 > 0 && $0 < n })
        #expect(DecodeCheck.relError(ref, core) < 1e-3)
    }

    @Test("vAttention's reference sample is seeded, nested in the pilot order and sized by the bound", arguments: [(4, 1, 64, 3000), (8, 2, 128, 1200)])
    func vattentionSample(h: Int, g: Int, d: Int, n: Int) {
        let x = Self.inputs(h: h, g: g, d: d, n: n, seed: UInt64(n) ^ 5)
        let s = 128, w = n - 128, k = try! Budget().keys(outOf: n)
        Self.withView(x, n: n) { q, kv in
            for head in 0..<h {
                let top = PeerReference.vattentionTopK(q: q, kv: kv, head: head, sinks: s, windowStart: w, k: k).top
                #expect(top.count == min(k, w - s))
                let det = Array(0..<Int32(s)) + top + Array(Int32(w)..<Int32(n))
                let a = PeerReference.vattentionEstimate(q: q, kv: kv, head: head, deterministic: det, sinks: s, windowStart: w,
                                                         epsilon: 0.05, delta: 0.05, seed: 9, layer: 2)
                let again = PeerReference.vattentionEstimate(q: q, kv: kv, head: head, deterministic: det, sinks: s, windowStart: w,
                                                             epsilon: 0.05, delta: 0.05, seed: 9, layer: 2)
                #expect(a.out == again.out && a.sample == again.sample)
                #expect(a.residual == w - s - top.count)
                #expect(a.b >= min(a.residual, VAttention.pilotSamples) && a.b <= a.residual && a.sample.count == a.b)
                #expect(Set(a.sample).isDisjoint(with: Set(det)))
                // A tighter bound keeps a superset: the sample is the b smallest keys.
                let tight = PeerReference.vattentionEstimate(q: q, kv: kv, head: head, deterministic: det, sinks: s, windowStart: w,
                                                             epsilon: 0.01, delta: 0.05, seed: 9, layer: 2)
                #expect(tight.b >= a.b && Set(a.sample).isSubset(of: Set(tight.sample)))
                // Every residual key sampled: the estimate is exact attention.
                let all = PeerReference.vattentionEstimate(q: q, kv: kv, head: head, deterministic: det, sinks: s, windowStart: w,
                                                           epsilon: 1e-6, delta: 0.05, seed: 9, layer: 2)
                #expect(all.b == all.residual)
                let dense = PeerReference.attend(q: q, kv: kv, head: head, positions: (0..<Int32(n)).map { $0 })
                #expect(DecodeCheck.relError(all.out, dense) < 1e-5)
                #expect(DecodeCheck.relError(a.out, dense) < 0.1)
            }
        }
    }

    @Test("sampling keys differ between heads and seeds and spread over 32 bits")
    func sampleKeys() {
        let a = VAttentionSampleKey.stream(seed: 1, layer: 2, head: 0, length: 100)
        let b = VAttentionSampleKey.stream(seed: 1, layer: 2, head: 1, length: 100)
        let c = VAttentionSampleKey.stream(seed: 2, layer: 2, head: 0, length: 100)
        #expect(a != b && a != c)
        let keys = (0..<4096).map { VAttentionSampleKey.key(a, $0) }
        #expect(Set(keys).count > 4090)
        let low = keys.filter { $0 < UInt32.max / 2 }.count
        #expect(low > 1900 && low < 2200)
    }

    @Test("every peer kernel the launchers call is an extern C symbol of decode_peers.cu",
          arguments: ["quest_pages", "quest_page_scores", "peer_select", "twilight_quantize", "twilight_estimate", "twilight_estimate_fma", "twilight_top_p",
                      "vatt_sample", "peer_attend_pages", "peer_attend_tokens", "peer_combine"])
    func embedded(name: String) {
        #expect(KernelSource.decodePeers.text.contains("extern \"C\" __global__ void"))
        #expect(KernelSource.decodePeers.text.contains(" \(name)("))
    }

    @Test("the launch shapes of the estimate, the fused selection and the page scores are the ones their kernels are written for")
    func launchShapes() {
        let text = KernelSource.decodePeers.text
        #expect(text.contains("constexpr int EST_THREADS = \(PeerDecodeKernels.estimateThreads);"))
        #expect(text.contains("constexpr int EST_TOKENS = \(PeerDecodeKernels.estimateTokens);"))
        #expect(text.contains("constexpr int QS_THREADS = \(PeerDecodeKernels.selectListThreads);"))
        #expect(text.contains("constexpr int QS_MAXE = \(PeerDecodeKernels.selectListUnits);"))
        #expect(text.contains("constexpr int SCORE_PAGES = \(PeerDecodeKernels.pageScorePages);"))
        #expect(text.contains("constexpr int SCORE_SHARED = 2 * SCORE_PAGES * SCORE_ROW + 2 * GROUP * D * 4;"))
    }
}
