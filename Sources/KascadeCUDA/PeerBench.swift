import KascadeCore

/// Times Quest, Twilight and vAttention decode (selection + attention of one step, and the per-token
/// metadata updates) against dense decode in the same run, at the paper's shapes on generated
/// inputs, rotating input sets larger than L2 (CUDA events, median after warm-up). Inputs come in two
/// modes (``PeerInputMode``): i.i.d. random (flat attention) and peaked (heavy keys that the heads of a
/// group share; see ``PeerDecodeKernels/addPeakedKeys(_:rows:length:batch:seed:c:rate:stream:)``).
public enum PeerBench {
    /// Runs over `batches` x `lengths`; `progress` gets one line per shape.
    public static func run(device: CUDADevice, compiler: KernelCompiler, batches: [Int], lengths: [Int],
                           queryHeads: Int = 32, kvHeads: Int = 8, headDim: Int = 128, dtype: KVDType = .bf16,
                           fraction: Double = 0.10, modes: [PeerInputMode] = [.random, .peaked],
                           progress: (String) -> Void) throws -> PeerBenchReport {
        let dense = try DecodeKernels(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                                      queryHeads: queryHeads, kvHeads: kvHeads)
        let peers = try PeerDecodeKernels(device: device, compiler: compiler, dtype: dtype, headDim: headDim,
                                          queryHeads: queryHeads, kvHeads: kvHeads)
        let stream = try CUDAStream(device: device)
        let H = queryHeads, G = kvHeads, d = headDim
        let maxB = batches.max() ?? 1, maxN = lengths.max() ?? 1
        let kvBytes = maxB * G * maxN * d * 2
        let kBuf = try device.allocate(kvBytes), vBuf = try device.allocate(kvBytes)
        try dense.fillRandom(kBuf.address, count: kvBytes / 2, seed: 1, amp: 1, stream: stream)
        try dense.fillRandom(vBuf.address, count: kvBytes / 2, seed: 2, amp: 1, stream: stream)
        let qBuf = try device.allocate(maxB * H * d * 2)
        try dense.fillRandom(qBuf.address, count: maxB * H * d, seed: 3, amp: 2.5, stream: stream)
        // Metadata for every rotated set: page bounds (1/16 of the keys each), 4-bit codes and per-token scalars.
        let tokens = maxB * G * maxN
        let pageBytes = kvBytes / 16 + 8 * maxB * G * d * 2
        let pMin = try device.allocate(pageBytes), pMax = try device.allocate(pageBytes)
        let codes = try device.allocate(tokens * d / 2), scales = try device.allocate(tokens * 4), zeros = try device.allocate(tokens * 4)
        let out = try device.allocate(maxB * H * d * 4), counts = try device.allocate(maxB * H * 4)
        let budget = try Budget(fraction: fraction)
        let quest = QuestAttention(budget: budget), twilight = TwilightAttention(budget: budget)
        try stream.synchronize()

        var shapes: [PeerBenchShape] = []
        for mode in modes {
        for B in batches {
            for N in lengths {
                let setBytes = B * G * N * d * 2
                let sets = max(1, min(8, kvBytes / setBytes))
                try dense.fillRandom(kBuf.address, count: sets * setBytes / 2, seed: 1, amp: 1, stream: stream)
                switch mode {
                case .random:
                    try dense.fillRandom(qBuf.address, count: B * H * d, seed: 3, amp: 2.5, stream: stream)
                case .peaked:
                    try peers.addPeakedKeys(kBuf.address, rows: sets * B * G, length: N, batch: B, seed: 5, stream: stream)
                    try peers.fillPeakedQueries(qBuf.address, batch: B, seed: 5, stream: stream)
                }
                let mass = (try peers.topMass(q: qBuf.address, k: kBuf.address, batch: 0, kvHead: 0, length: N, capacity: N,
                                              fraction: 0.1, stream: stream)
                            + peers.topMass(q: qBuf.address, k: kBuf.address, batch: B - 1, kvHead: G - 1, length: N, capacity: N,
                                            fraction: 0.1, stream: stream)) / 2
                let pages = (N + 15) / 16
                let keep = quest.pagesToKeep(contextLength: N)
                let keep0 = min(pages, max(1, (twilight.candidateBudget(contextLength: N) + 15) / 16))
                let k = budget.keys(outOf: N)
                func inputs(_ i: Int, length: Int? = nil) -> DecodeInputs {
                    let off = UInt64((i % sets) * setBytes)
                    return DecodeInputs(q: qBuf.address, k: kBuf.address + off, v: vBuf.address + off, batch: B,
                                        length: length ?? N, capacity: N)
                }
                func pageView(_ i: Int) -> QuestPagesView {
                    let off = UInt64((i % sets) * B * G * pages * d * 2)
                    return QuestPagesView(min: pMin.address + off, max: pMax.address + off, pageCapacity: pages)
                }
                func int4View(_ i: Int) -> Int4KeysView {
                    let t = UInt64((i % sets) * B * G * N)
                    return Int4KeysView(codes: codes.address + t * UInt64(d / 2), scales: scales.address + t * 4,
                                        zeros: zeros.address + t * 4, capacity: N)
                }
                for i in 0..<sets {
                    try peers.buildPages(inputs(i), pages: pageView(i), stream: stream)
                    try peers.quantize(inputs(i), keys: int4View(i), stream: stream)
                }
                var timings: [String: KernelTiming] = [:]
                func record(_ name: String, bytes: Double, _ body: (Int) throws -> Void) throws {
                    let t = try DecodeBench.time(stream: stream, device: device, warmup: 3, runs: 0, body)
                    timings[name] = KernelTiming(medianMs: t.median, minMs: t.min, runs: t.runs, bytes: bytes,
                                                 tbPerSecond: bytes / (t.median * 1e-3) / 1e12)
                }
                let row = Double(d * 2)
                let meta = Double(B * G * pages * d * 4)
                try record("dense", bytes: 2 * Double(setBytes)) { i in try dense.dense(inputs(i), out: out.address, stream: stream) }
                // Quest and Twilight as configured at the time (their paths and steps are switched below).
                let questBytes = meta + Double(B * H * min(N, keep * 16)) * 2 * row
                let twilightBytes = meta + Double(B * G * min(N, keep0 * 16)) * (row / 4 + 8)
                func runQuest(_ i: Int) throws {
                    try peers.quest(inputs(i), pages: pageView(i), keep: keep, out: out.address, stream: stream)
                }
                func runTwilight(_ i: Int) throws {
                    try peers.twilight(inputs(i), pages: pageView(i), keys: int4View(i), keep: keep0, topP: twilight.topP,
                                       out: out.address, kept: counts.address, stream: stream)
                }
                try record("quest", bytes: questBytes, runQuest)
                let questListed = Double(try peers.existing("pageCount")!.download(Int32.self, count: B * G).reduce(0) { $0 + Int($1) })
                    / Double(B * G * pages)
                // Quest's steps: the page scores alone, then the whole selection (scores, each head's top
                // pages, the group's list); the rest is attention and combine.
                try record("quest.scores", bytes: meta) { i in
                    try peers.questSelection(inputs(i), pages: pageView(i), keep: keep, scoresOnly: true, stream: stream)
                }
                try record("quest.selection", bytes: meta) { i in
                    try peers.questSelection(inputs(i), pages: pageView(i), keep: keep, scoresOnly: false, stream: stream)
                }
                for w in [2, 4] {
                    peers.pageListWaves = w
                    try record("quest.waves\(w)", bytes: questBytes, runQuest)
                }
                peers.pageListWaves = 3
                // The same step by step (memset, per-head selection, compaction) and on CUDA cores, for a
                // before/after in one run.
                peers.tensorCoreAttention = false
                try record("quest.cudaCores", bytes: questBytes, runQuest)
                peers.fusedSelection = false
                try record("quest.before", bytes: questBytes, runQuest)
                try record("quest.selection.before", bytes: meta) { i in
                    try peers.questSelection(inputs(i), pages: pageView(i), keep: keep, scoresOnly: false, stream: stream)
                }
                try record("twilight.before", bytes: twilightBytes, runTwilight)
                peers.fusedSelection = true
                peers.tensorCoreAttention = true
                try record("twilight", bytes: twilightBytes, runTwilight)
                let listed = Double(try peers.existing("pageCount")!.download(Int32.self, count: B * G).reduce(0) { $0 + Int($1) })
                    / Double(B * G * pages)
                let meanKept = Double(try counts.download(Int32.self, count: B * H).reduce(0) { $0 + Int($1) }) / Double(B * H)
                // Twilight's steps: its candidate selection, then the int4 estimate, then the top-p
                // threshold; the rest is attention over the kept keys and combine.
                for (name, step) in [("selection", PeerDecodeKernels.TwilightStep.selection), ("estimate", .estimate), ("topP", .topP)] {
                    peers.twilightStopsAfter = step
                    try record("twilight.\(name)", bytes: meta, runTwilight)
                }
                peers.twilightStopsAfter = nil
                // The estimate on CUDA cores, for a before/after in one run.
                peers.tensorCoreEstimate = false
                try record("twilight.fmaEstimate", bytes: twilightBytes, runTwilight)
                peers.twilightStopsAfter = .estimate
                try record("twilight.estimate.fma", bytes: meta, runTwilight)
                peers.twilightStopsAfter = nil
                peers.tensorCoreEstimate = true
                peers.listDriven = false
                try record("quest.scan", bytes: questBytes, runQuest)
                try record("twilight.scan", bytes: twilightBytes, runTwilight)
                peers.listDriven = true
                try record("vattention", bytes: Double(setBytes) + Double(B * H * (k + 256)) * 2 * row) { i in
                    try peers.vattention(inputs(i), config: VAttentionGPUConfig(layer: 2), topK: k, out: out.address,
                                         sampleSizes: counts.address, stream: stream)
                }
                let meanB = Double(try counts.download(Int32.self, count: B * H).reduce(0) { $0 + Int($1) }) / Double(B * H)
                try record("quest.append", bytes: Double(B * G) * 16 * row + Double(B * G * d * 4)) { i in
                    try peers.appendPages(inputs(i), pages: pageView(i), from: N - 1, stream: stream)
                }
                try record("twilight.append", bytes: Double(B * G) * (17 * row + row / 4 + 8) + Double(B * G * d * 4)) { i in
                    try peers.appendPages(inputs(i), pages: pageView(i), from: N - 1, stream: stream)
                    try peers.quantize(inputs(i), keys: int4View(i), from: N - 1, stream: stream)
                }
                let ms = { (n: String) in timings[n]!.medianMs }
                var speedups: [String: Double] = [:]
                for m in ["quest", "twilight", "vattention", "quest.scan", "twilight.scan", "quest.cudaCores", "quest.before",
                          "twilight.before", "twilight.fmaEstimate"] { speedups[m] = ms("dense") / ms(m) }
                shapes.append(PeerBenchShape(mode: mode, batch: B, length: N, k: k, kernels: timings, speedupOverDense: speedups,
                                             questPages: keep, twilightCandidatePages: keep0, twilightMeanKept: meanKept,
                                             vattentionMeanSample: meanB, topTenthMass: mass, questListedFraction: questListed,
                                             twilightListedFraction: listed))
                progress("peers \(mode.rawValue) B=\(B) N=\(N) top10%mass \(formatFixed(mass, 3)) listed q \(formatFixed(questListed, 3)) t \(formatFixed(listed, 3)): dense \(format3(ms("dense"))) ms, quest \(format3(ms("quest"))) (\(format2(speedups["quest"]!))x), " +
                         "twilight \(format3(ms("twilight"))) (\(format2(speedups["twilight"]!))x, kept \(formatFixed(meanKept, 0)) of \(min(N, keep0 * 16))), " +
                         "vattention \(format3(ms("vattention"))) (\(format2(speedups["vattention"]!))x, b \(formatFixed(meanB, 0))), " +
                         "append quest \(format3(ms("quest.append"))) twilight \(format3(ms("twilight.append"))) ms; " +
                         "quest steps: page scores \(format3(ms("quest.scores"))), selection \(format3(ms("quest.selection"))) ms " +
                         "(before \(format3(ms("quest.selection.before")))); before: quest on CUDA cores \(format2(speedups["quest.cudaCores"]!))x, " +
                         "step by step \(format2(speedups["quest.before"]!))x, twilight \(format2(speedups["twilight.before"]!))x; " +
                         "quest at 2 / 4 waves \(format3(ms("quest.waves2"))) / \(format3(ms("quest.waves4"))) ms; " +
                         "twilight steps: selection \(format3(ms("twilight.selection"))), + estimate \(format3(ms("twilight.estimate"))), + top-p \(format3(ms("twilight.topP"))) ms; " +
                         "estimate on CUDA cores: twilight \(format3(ms("twilight.fmaEstimate"))) ms (\(format2(speedups["twilight.fmaEstimate"]!))x), to the estimate \(format3(ms("twilight.estimate.fma"))) ms; " +
                         "position-split scan: quest \(format2(speedups["quest.scan"]!))x twilight \(format2(speedups["twilight.scan"]!))x")
            }
        }
        }
        return PeerBenchReport(device: device.name, launchOverlap: stream.overlapsLaunches, queryHeads: H, kvHeads: G, headDim: d, dtype: dtype, fraction: fraction, shapes: shapes)
    }
}
