import ArgumentParser
import Dispatch
import Foundation
import KascadeCore

/// `kascade bench`: speed of one decode attention layer on the CPU — dense against Kascade's
/// anchor and reuse layers — with the K/V bandwidth it reaches.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark one decode attention layer: dense vs Kascade anchor and reuse (GB/s of K and V read).",
        discussion: """
        Times one layer call (median of --repeats after warm-up) on random data, single-threaded and on
        all cores, cycling through --layers distinct KV caches so that K and V come from memory (KASCADE_THREADS overrides the core count). GB/s counts the K and V bytes of the keys a
        call reads (anchor layers read all keys for scoring, then the selected V rows).

        Example:
          kascade bench --device cpu
          kascade bench --device cpu --context 32768 --json
          kascade bench --device cuda --batches 8,64 --lengths 32768,131072 --json-out gpu.json
        """
    )

    enum Device: String, ExpressibleByArgument, CaseIterable { case cpu, cuda }

    @Option(help: "cpu or cuda.") var device: Device = .cpu
    @Option(help: "Context length N.") var context: Int = 8192
    @Option(name: .customLong("query-heads"), help: "Query heads H.") var queryHeads: Int = 9
    @Option(name: .customLong("kv-heads"), help: "KV heads G.") var kvHeads: Int = 3
    @Option(name: .customLong("head-dim"), help: "Head dimension d.") var headDim: Int = 64
    @Option(help: "Budget fraction for Kascade.") var fraction: Double = 0.10
    @Option(name: .customLong("k-min"), help: "Floor on the keys kept.") var kMin: Int = 128
    @Option(help: "Timed calls per measurement.") var repeats: Int = 64
    @Option(help: "Distinct layer caches the calls cycle through (32: K/V come from memory as in a model; 1: cache-resident).")
    var layers: Int = 32
    @Flag(help: "Print JSON instead of a Markdown table.") var json = false
    @Option(help: "cuda: batch sizes, comma-separated.") var batches: String = "1,8,64"
    @Option(help: "cuda: context lengths, comma-separated.") var lengths: String = "8192,32768,65536,131072"
    @Option(name: .customLong("json-out"), help: "cuda: write the full results as JSON to this file.") var jsonOut: String?

    /// One measured row.
    struct Row: Codable {
        var kernel: String
        var threads: Int
        var milliseconds: Double
        var gigabytesPerSecond: Double
        var speedupOverDense: Double?
    }

    /// The whole report.
    struct Report: Codable {
        var device: String
        var queryHeads: Int, kvHeads: Int, headDim: Int, context: Int, keysKept: Int, layers: Int, cores: Int
        var rows: [Row]
        var modelLevelSpeedup: Double
        var modelLevelSpeedupSingleThread: Double
    }

    func run() throws {
        if device == .cuda {
            // The paper's shapes (32 query / 8 KV heads, d = 128, bf16) on generated inputs.
            var args = ["--batches", batches, "--lengths", lengths, "--fraction", "\(fraction)"]
            if let jsonOut { args += ["--json", jsonOut] }
            let gpu = try CUDABenchCommand.parse(args)
            try gpu.run()
            return
        }
        let geo = try AttentionGeometry(queryHeads: queryHeads, kvHeads: kvHeads, headDim: headDim)
        let budget = try Budget(fraction: fraction, kMin: kMin)
        guard context > 0, repeats > 0, layers > 0 else { throw MethodOptions.Failure("--context, --layers and --repeats must be positive") }
        let N = context, G = kvHeads, d = headDim, per = G * N * d
        var rng = SplitMix(seed: 42)
        let keys = (0..<(layers * per)).map { _ in rng.nextFloat() }
        let values = (0..<(layers * per)).map { _ in rng.nextFloat() }
        let q = (0..<(queryHeads * d)).map { _ in rng.nextFloat() * 4 }
        var out = [Float](repeating: 0, count: queryHeads * d)
        let k = budget.keys(outOf: N)
        let bytesPerKey = Double(2 * d * 4)   // one K row and one V row, float32
        let cores = ProcessInfoCores.count
        var rows: [Row] = []
        var modelSpeedup: [Int: Double] = [:]
        try keys.withUnsafeBufferPointer { kp in
            try values.withUnsafeBufferPointer { vp in
                let kv = { (l: Int) in KVCacheView(keys: kp.baseAddress! + (l % layers) * per, values: vp.baseAddress! + (l % layers) * per,
                                                    length: N, capacity: N, geometry: geo) }
                for threads in Array(Set([1, cores])).sorted() {
                    // Baseline: a plain SIMD read of the same K and V bytes (what "memory speed" means here).
                    var sink: Float = 0
                    let tRead = try time { l in
                        sink += Self.readAll([kp.baseAddress! + (l % layers) * per, vp.baseAddress! + (l % layers) * per], count: per, workers: threads)
                    }
                    if sink.isNaN { print("") }
                    let denseBytes = Double(G * N) * bytesPerKey
                    rows.append(Row(kernel: "baseline: SIMD sum over K and V", threads: threads, milliseconds: tRead * 1e3,
                                    gigabytesPerSecond: denseBytes / tRead / 1e9, speedupOverDense: nil))
                    let dense = DenseAttention(workers: threads)
                    let schedule = try KascadeSchedule(layers: 3, kvHeads: G, anchors: [0, 1],
                                                       headMaps: Array(repeating: Array(0..<G), count: 3),
                                                       fraction: fraction, kMin: kMin, modelID: "bench", devSetID: "random")
                    let kascade = KascadeAttention(schedule: schedule, workers: threads)
                    let tDense = try time { l in try dense.attend(layer: 0, queries: q, queryCount: 1, kv: kv(l), output: &out) }
                    let tLayer0 = try time { l in try kascade.attend(layer: 0, queries: q, queryCount: 1, kv: kv(l), output: &out) }
                    let tAnchor = try time { l in try kascade.attend(layer: 1, queries: q, queryCount: 1, kv: kv(l), output: &out) }
                    let tReuse = try time { l in try kascade.attend(layer: 2, queries: q, queryCount: 1, kv: kv(l), output: &out) }
                    let anchorBytes = denseBytes / 2 + Double(G * k) * bytesPerKey
                    let reuseBytes = Double(G * k) * bytesPerKey
                    rows.append(Row(kernel: "dense", threads: threads, milliseconds: tDense * 1e3,
                                    gigabytesPerSecond: denseBytes / tDense / 1e9, speedupOverDense: 1))
                    rows.append(Row(kernel: "kascade layer 0 (anchor, dense output)", threads: threads, milliseconds: tLayer0 * 1e3,
                                    gigabytesPerSecond: denseBytes / tLayer0 / 1e9, speedupOverDense: tDense / tLayer0))
                    rows.append(Row(kernel: "kascade anchor", threads: threads, milliseconds: tAnchor * 1e3,
                                    gigabytesPerSecond: anchorBytes / tAnchor / 1e9, speedupOverDense: tDense / tAnchor))
                    rows.append(Row(kernel: "kascade reuse", threads: threads, milliseconds: tReuse * 1e3,
                                    gigabytesPerSecond: reuseBytes / tReuse / 1e9, speedupOverDense: tDense / tReuse))
                    modelSpeedup[threads] = tDense / ((tLayer0 + 4 * tAnchor + 27 * tReuse) / 32)
                }
            }
        }
        let report = Report(device: "cpu", queryHeads: queryHeads, kvHeads: kvHeads, headDim: headDim, context: N,
                            keysKept: k, layers: layers, cores: cores, rows: rows,
                            modelLevelSpeedup: modelSpeedup[cores] ?? 1, modelLevelSpeedupSingleThread: modelSpeedup[1] ?? 1)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try e.encode(report), as: UTF8.self))
            return
        }
        let mib = Double(2 * per * 4) / 1048576
        print("Decode attention, one layer: H=\(queryHeads), G=\(kvHeads), d=\(headDim), N=\(N), Kascade k=\(k) (fraction \(fraction), kMin \(kMin)), float32, \(cores) cores")
        print("Calls cycle through \(layers) layer caches of \(String(format: "%.1f", mib)) MiB K+V each (\(layers == 1 ? "cache-resident" : "read from memory, as in a model")).")
        print("")
        print("| kernel | threads | time (ms) | K+V read (GB/s) | speed-up vs dense |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for r in rows {
            let speedup = r.speedupOverDense.map { String(format: "%.2fx", $0) } ?? "—"
            print("| \(r.kernel) | \(r.threads) | \(String(format: "%.3f", r.milliseconds)) | \(String(format: "%.1f", r.gigabytesPerSecond)) | \(speedup) |")
        }
        print("")
        print("Model-level (32 layers, 5 anchors with layer 0: (T_layer0 + 4 T_anchor + 27 T_reuse) / 32): " +
              "\(String(format: "%.2fx", modelSpeedup[1] ?? 1)) vs dense on 1 thread, \(String(format: "%.2fx", modelSpeedup[cores] ?? 1)) on \(cores)")
    }

    /// Sums every float of the buffers, split over `workers` cores: the read-bandwidth baseline.
    static func readAll(_ buffers: [UnsafePointer<Float>], count: Int, workers: Int) -> Float {
        let parts = max(1, workers)
        var partial = [Float](repeating: 0, count: parts * buffers.count)
        partial.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: parts) { w in
                let lo = count * w / parts / 16 * 16, hi = w == parts - 1 ? count : count * (w + 1) / parts / 16 * 16
                for (b, base) in buffers.enumerated() {
                    let raw = UnsafeRawPointer(base)
                    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
                    var i = lo
                    while i + 32 <= hi {
                        a0 += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                        a1 += raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
                        i += 32
                    }
                    var s = (a0 + a1).sum()
                    while i < hi { s += base[i]; i += 1 }
                    o[w * buffers.count + b] = s
                }
            }
        }
        return partial.reduce(0, +)
    }

    /// Median seconds of one call over `repeats` after three warm-up calls; call `i` gets `i`.
    func time(_ body: (Int) throws -> Void) throws -> Double {
        for i in 0..<3 { try body(i) }
        var samples: [Double] = []
        samples.reserveCapacity(repeats)
        for i in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body(3 + i)
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        samples.sort()
        return samples[samples.count / 2]
    }

    /// A small seeded generator for reproducible inputs.
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        /// Uniform in [-1, 1).
        mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    }
}
