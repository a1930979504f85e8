import KascadeCore

/// Times the decode kernels at the paper's shapes on generated inputs, rotating input buffers
/// larger than L2, with CUDA events around each run (median of many after warm-up).
public enum DecodeBench {
    /// Runs the benchmark over `batches` x `lengths`; `progress` gets one line per shape.
    public static func run(device: CUDADevice, compiler: KernelCompiler, batches: [Int], lengths: [Int],
                           queryHeads: Int = 32, kvHeads: Int = 8, headDim: Int = 128, dtype: KVDType = .bf16,
                           fraction: Double = 0.10,
                           variants: [(main: DecodeVariant, gather: DecodeVariant)] = [(DecodeVariant(), DecodeVariant())], progress: (String) -> Void) throws -> DecodeBenchReport {
        let kernels = try variants.map { v throws -> DecodeKernels in
            try DecodeKernels(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                              queryHeads: queryHeads, kvHeads: kvHeads, main: v.main, gather: v.gather)
        }
        let kern = kernels[0]
        let stream = try CUDAStream(device: device)
        let H = queryHeads, G = kvHeads, d = headDim
        let maxB = batches.max() ?? 1, maxN = lengths.max() ?? 1
        let kvBytes = maxB * G * maxN * d * 2
        let kBuf = try device.allocate(kvBytes), vBuf = try device.allocate(kvBytes)
        try kern.fillRandom(kBuf.address, count: kvBytes / 2, seed: 1, amp: 1, stream: stream)
        try kern.fillRandom(vBuf.address, count: kvBytes / 2, seed: 2, amp: 1, stream: stream)
        let qBuf = try device.allocate(maxB * H * d * 2)
        try kern.fillRandom(qBuf.address, count: maxB * H * d, seed: 3, amp: 2.5, stream: stream)
        let stride = (maxN + 3) / 4 * 4
        let logits = try device.allocate(maxB * H * stride * 4)
        let lse = try device.allocate(maxB * H * 4), out = try device.allocate(maxB * H * d * 4)
        let budget = try Budget(fraction: fraction)
        let maxK = budget.keys(outOf: maxN)
        let idx = try device.allocate(maxB * G * maxK * 4)
        let map = try device.allocate(G * 4)
        try map.upload((0..<G).map { Int32(($0 * 3 + 1) % G) })
        // Kascade pooled (one index row per sequence) and StreamingLLM (sinks and window, one row per sequence).
        let pooledIdx = try device.allocate(maxB * maxK * 4), streamIdx = try device.allocate(maxB * maxK * 4)
        try stream.synchronize()

        // Copy bandwidth: 2 GiB (or half the buffer) from K's first half into V.
        let copyBytes = min(1 << 31, kvBytes / 2)
        let copyT = try time(stream: stream, device: device, warmup: 2, runs: 10) { _ in
            try stream.copy(from: kBuf.address, to: vBuf.address, bytes: copyBytes)
        }
        try kern.fillRandom(vBuf.address, count: kvBytes / 2, seed: 2, amp: 1, stream: stream)
        let copyTB = 2 * Double(copyBytes) / (copyT.median * 1e-3) / 1e12
        progress("copy bandwidth \(String(format2(copyTB))) TB/s; launches overlap: \(stream.overlapsLaunches ? "on" : "off")")

        var shapes: [DecodeBenchShape] = []
        for (kern, variant) in zip(kernels, variants) {
        let name = "\(variant.main)+\(variant.gather)"
        for B in batches {
            for N in lengths {
                let setBytes = B * G * N * d * 2
                let sets = max(1, min(8, kvBytes / setBytes))
                let k = budget.keys(outOf: N)
                let st = (N + 3) / 4 * 4
                func inputs(_ i: Int) -> DecodeInputs {
                    let off = UInt64((i % sets) * setBytes)
                    return DecodeInputs(q: qBuf.address, k: kBuf.address + off, v: vBuf.address + off, batch: B, length: N)
                }
                let kvRead = 2 * Double(setBytes)
                let gathered = 2 * Double(B * G * k * d * 2)
                let logitBytes = Double(B * H * N * 4)
                var timings: [String: KernelTiming] = [:]
                func record(_ name: String, bytes: Double, _ body: (Int) throws -> Void) throws {
                    let t = try time(stream: stream, device: device, warmup: 3, runs: 0, body)
                    timings[name] = KernelTiming(medianMs: t.median, minMs: t.min, runs: t.runs, bytes: bytes,
                                                 tbPerSecond: bytes / (t.median * 1e-3) / 1e12)
                }
                try record("dense", bytes: kvRead) { i in
                    try kern.dense(inputs(i), out: out.address, stream: stream)
                }
                // Every selection path (the automatic one under the plain names, the others with a
                // suffix); the fused paths keep the pooled probabilities on chip (bytes: the split path's pooled write counted once).
                let pooledBytes = Double(B * G * N * 4)
                let route = try kern.selectRoute(batch: B, length: N)
                var paths: [(name: String, path: DecodeKernels.SelectPath, pooledTraffic: Double)] = [("", .automatic, route == .split ? pooledBytes : 0)]
                if route != .split { paths.append((".split", .split, pooledBytes)) }
                for r in [1, 2] {
                    for c in [1, 2, 4, 8] where route != .fused(blocks: c, resident: r) {
                        kern.selectPath = .fused(blocks: c, resident: r)
                        if (try? kern.selectRoute(batch: B, length: N)) != nil { paths.append(("." + kern.selectPath.description, kern.selectPath, 0)) }
                    }
                }
                func select() throws {
                    try kern.select(batch: B, length: N, logits: logits.address, logitStride: st, lse: lse.address,
                                    pooled: nil, pooledStride: 0, idx: idx.address, idxStride: k, k: k, stream: stream)
                }
                // The selection rows alone read this shape's scores and log-sum-exp, not the previous shape's.
                try kern.scores(inputs(0), logits: logits.address, logitStride: st, lse: lse.address, stream: stream)
                for (suffix, path, pooledTraffic) in paths {
                    kern.selectPath = path
                    try record("anchor.select" + suffix, bytes: logitBytes + pooledTraffic) { _ in try select() }
                    guard path == .automatic || path == .split else { continue }
                    try record("layer0" + suffix, bytes: kvRead + 2 * logitBytes + pooledTraffic) { i in
                        try kern.dense(inputs(i), out: out.address, lse: lse.address, logits: logits.address, logitStride: st, stream: stream)
                        try select()
                    }
                    // The anchor's own output gathers only values where its scores can be read back.
                    let overScores = kern.gathersOverScores
                    let anchorGather = overScores ? gathered / 2 + Double(B * H * k * 4) : gathered
                    try record("anchor" + suffix, bytes: kvRead / 2 + 2 * logitBytes + pooledTraffic + anchorGather) { i in
                        try kern.anchor(inputs(i), logits: logits.address, logitStride: st, lse: lse.address, idx: idx.address,
                                        idxStride: k, k: k, out: out.address, stream: stream)
                    }
                    if overScores && path == .automatic {
                        try record("anchor.gatherKV", bytes: kvRead / 2 + 2 * logitBytes + pooledTraffic + gathered) { i in
                            let p = inputs(i)
                            try kern.scoresSelect(p, logits: logits.address, logitStride: st, lse: lse.address, idx: idx.address,
                                                  idxStride: k, k: k, stream: stream)
                            try kern.sparse(p, idx: idx.address, idxStride: k, idxHeads: G, count: k, headMap: nil, out: out.address, stream: stream)
                        }
                    }
                }
                kern.selectPath = .automatic
                try record("anchor.scores", bytes: kvRead / 2 + logitBytes) { i in
                    try kern.scores(inputs(i), logits: logits.address, logitStride: st, lse: lse.address, stream: stream)
                }
                try record("reuse", bytes: gathered) { i in
                    try kern.sparse(inputs(i), idx: idx.address, idxStride: k, idxHeads: G, count: k, headMap: map.address,
                                    out: out.address, stream: stream)
                }
                // Kascade pooled: one selection over all heads' probabilities, shared by every KV head.
                try record("layer0.pooled", bytes: kvRead + 2 * logitBytes + Double(B * N * 8)) { i in
                    try kern.dense(inputs(i), out: out.address, lse: lse.address, logits: logits.address, logitStride: st, stream: stream)
                    try kern.selectPooled(batch: B, length: N, logits: logits.address, logitStride: st, lse: lse.address,
                                          pooled: nil, pooledStride: 0, idx: pooledIdx.address, idxStride: k, k: k, stream: stream)
                }
                try record("anchor.pooled", bytes: kvRead / 2 + 2 * logitBytes + Double(B * N * 8) + gathered) { i in
                    try kern.anchor(inputs(i), logits: logits.address, logitStride: st, lse: lse.address, idx: pooledIdx.address,
                                    idxStride: k, k: k, pooled: true, out: out.address, stream: stream)
                }
                try record("reuse.pooled", bytes: gathered) { i in
                    try kern.sparse(inputs(i), idx: pooledIdx.address, idxStride: k, idxHeads: 1, count: k, headMap: nil,
                                    out: out.address, stream: stream)
                }
                // StreamingLLM at the same budget: 4 sinks and the most recent keys.
                let window = StreamingLLMAttention(budget: budget).readRanges(visible: N)
                let rowList = (Array(window.sinks) + Array(window.window)).map { Int32($0) }
                try streamIdx.upload(Array((0..<B).map { _ in rowList }.joined()))
                try record("streaming", bytes: 2 * Double(B * G * rowList.count * d * 2)) { i in
                    try kern.sparse(inputs(i), idx: streamIdx.address, idxStride: rowList.count, idxHeads: 1, count: rowList.count,
                                    headMap: nil, out: out.address, stream: stream)
                }
                let ms = { (n: String) in timings[n]!.medianMs }
                let model = (ms("layer0") + 4 * ms("anchor") + 27 * ms("reuse")) / 32
                let pooledModel = (ms("layer0.pooled") + 4 * ms("anchor.pooled") + 27 * ms("reuse.pooled")) / 32
                let splits = try kern.denseSplits(batch: B, length: N)
                shapes.append(DecodeBenchShape(batch: B, length: N, k: k, variant: name, splits: splits, kernels: timings, modelLevelMs: model, pooledModelLevelMs: pooledModel))
                progress("\(name) B=\(B) N=\(N): dense \(format3(ms("dense"))) ms (\(format2(timings["dense"]!.tbPerSecond)) TB/s), " +
                         "layer0 \(format3(ms("layer0"))), anchor \(format3(ms("anchor"))), reuse \(format3(ms("reuse"))) " +
                         "(\(format2(timings["reuse"]!.tbPerSecond)) TB/s), model-level \(format3(model)) ms; select \(route): " +
                         paths.map { "\($0.path == .automatic ? "auto" : String($0.name.dropFirst())) \(format3(ms("anchor.select" + $0.name)))" }
                             .joined(separator: ", ") +
                         (route == .split ? "" : "; split layer0 \(format3(ms("layer0.split"))), anchor \(format3(ms("anchor.split")))"))
            }
        }
        }
        return DecodeBenchReport(device: device.name, copyTBPerSecond: copyTB, launchOverlap: stream.overlapsLaunches, queryHeads: H, kvHeads: G, headDim: d,
                                 dtype: dtype, fraction: fraction, shapes: shapes)
    }

    /// Runs `body(i)` `warmup` times, then times each of the runs with events; `runs == 0` picks a
    /// count that fills about a quarter second (5 to 50). Returns median and min milliseconds.
    static func time(stream: CUDAStream, device: CUDADevice, warmup: Int, runs: Int,
                     _ body: (Int) throws -> Void) throws -> (median: Double, min: Double, runs: Int) {
        let e0 = try CUDAEvent(device: device), e1 = try CUDAEvent(device: device)
        try e0.record(on: stream)
        for i in 0..<warmup { try body(i) }
        try e1.record(on: stream)
        let warm = Double(try e1.milliseconds(since: e0)) / Double(max(warmup, 1))
        let n = runs > 0 ? runs : max(5, min(50, Int(250 / max(warm, 1e-3))))
        var starts: [CUDAEvent] = [], ends: [CUDAEvent] = []
        for _ in 0..<n { starts.append(try CUDAEvent(device: device)); ends.append(try CUDAEvent(device: device)) }
        for i in 0..<n {
            try starts[i].record(on: stream)
            try body(warmup + i)
            try ends[i].record(on: stream)
        }
        var ts: [Double] = []
        for i in 0..<n { ts.append(Double(try ends[i].milliseconds(since: starts[i]))) }
        ts.sort()
        return (ts[n / 2], ts[0], n)
    }
}

func format2(_ x: Double) -> String { formatFixed(x, 2) }
func format3(_ x: Double) -> String { formatFixed(x, 3) }
/// `x` with `digits` decimals (no Foundation).
func formatFixed(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return "\(x)" }
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (abs(x) * p).rounded()
    let ip = Int(r / p), fp = Int(r) - ip * Int(p)
    var f = String(fp)
    while f.count < digits { f = "0" + f }
    return (x < 0 ? "-" : "") + "\(ip)" + (digits > 0 ? "." + f : "")
}
