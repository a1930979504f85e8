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
        all cores (KASCADE_THREADS overrides the core count). GB/s counts the K and V bytes of the keys a
        call reads (anchor layers read all keys for scoring, then the selected V rows).

        Example:
          kascade bench --device cpu
          kascade bench --device cpu --context 32768 --json
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
    @Option(help: "Timed calls per measurement.") var repeats: Int = 30
    @Flag(help: "Print JSON instead of a Markdown table.") var json = false

    /// One measured row.
    struct Row: Codable {
        var kernel: String
        var threads: Int
        var milliseconds: Double
        var gigabytesPerSecond: Double
        var speedupOverDense: Double
    }

    /// The whole report.
    struct Report: Codable {
        var device: String
        var queryHeads: Int, kvHeads: Int, headDim: Int, context: Int, keysKept: Int, cores: Int
        var rows: [Row]
        var modelLevelSpeedup: Double
    }

    func run() throws {
        guard device == .cpu else { throw MethodOptions.Failure("--device cuda is not wired into `kascade bench` yet; use --device cpu") }
        let geo = try AttentionGeometry(queryHeads: queryHeads, kvHeads: kvHeads, headDim: headDim)
        let budget = try Budget(fraction: fraction, kMin: kMin)
        guard context > 0, repeats > 0 else { throw MethodOptions.Failure("--context and --repeats must be positive") }
        let N = context, G = kvHeads, d = headDim
        var rng = SplitMix(seed: 42)
        let keys = (0..<(G * N * d)).map { _ in rng.nextFloat() }
        let values = (0..<(G * N * d)).map { _ in rng.nextFloat() }
        let q = (0..<(queryHeads * d)).map { _ in rng.nextFloat() * 4 }
        var out = [Float](repeating: 0, count: queryHeads * d)
        let k = budget.keys(outOf: N)
        let bytesPerKey = Double(2 * d * 4)   // one K row and one V row, float32
        let cores = ProcessInfoCores.count
        var rows: [Row] = []
        var modelSpeedup = 1.0
        try keys.withUnsafeBufferPointer { kp in
            try values.withUnsafeBufferPointer { vp in
                let kv = KVCacheView(keys: kp.baseAddress!, values: vp.baseAddress!, length: N, capacity: N, geometry: geo)
                for threads in Array(Set([1, cores])).sorted() {
                    let dense = DenseAttention(workers: threads)
                    let schedule = try KascadeSchedule(layers: 3, kvHeads: G, anchors: [0, 1],
                                                       headMaps: Array(repeating: Array(0..<G), count: 3),
                                                       fraction: fraction, kMin: kMin, modelID: "bench", devSetID: "random")
                    let kascade = KascadeAttention(schedule: schedule, workers: threads)
                    let tDense = try time { try dense.attend(layer: 0, queries: q, queryCount: 1, kv: kv, output: &out) }
                    let tLayer0 = try time { try kascade.attend(layer: 0, queries: q, queryCount: 1, kv: kv, output: &out) }
                    let tAnchor = try time { try kascade.attend(layer: 1, queries: q, queryCount: 1, kv: kv, output: &out) }
                    let tReuse = try time { try kascade.attend(layer: 2, queries: q, queryCount: 1, kv: kv, output: &out) }
                    let denseBytes = Double(G * N) * bytesPerKey
                    let anchorBytes = Double(G * N) * bytesPerKey / 2 + Double(G * k) * bytesPerKey
                    let reuseBytes = Double(G * k) * bytesPerKey
                    rows.append(Row(kernel: "dense", threads: threads, milliseconds: tDense * 1e3,
                                    gigabytesPerSecond: denseBytes / tDense / 1e9, speedupOverDense: 1))
                    rows.append(Row(kernel: "kascade layer 0 (anchor, dense output)", threads: threads, milliseconds: tLayer0 * 1e3,
                                    gigabytesPerSecond: (denseBytes + Double(G * N) * bytesPerKey / 2) / tLayer0 / 1e9, speedupOverDense: tDense / tLayer0))
                    rows.append(Row(kernel: "kascade anchor", threads: threads, milliseconds: tAnchor * 1e3,
                                    gigabytesPerSecond: anchorBytes / tAnchor / 1e9, speedupOverDense: tDense / tAnchor))
                    rows.append(Row(kernel: "kascade reuse", threads: threads, milliseconds: tReuse * 1e3,
                                    gigabytesPerSecond: reuseBytes / tReuse / 1e9, speedupOverDense: tDense / tReuse))
                    if threads == cores {
                        let model = (tLayer0 + 4 * tAnchor + 27 * tReuse) / 32
                        modelSpeedup = tDense / model
                    }
                }
            }
        }
        let report = Report(device: "cpu", queryHeads: queryHeads, kvHeads: kvHeads, headDim: headDim, context: N,
                            keysKept: k, cores: cores, rows: rows, modelLevelSpeedup: modelSpeedup)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try e.encode(report), as: UTF8.self))
            return
        }
        print("Decode attention, one layer: H=\(queryHeads), G=\(kvHeads), d=\(headDim), N=\(N), Kascade k=\(k) (fraction \(fraction), kMin \(kMin)), float32, \(cores) cores")
        print("")
        print("| kernel | threads | time (ms) | K+V read (GB/s) | speed-up vs dense |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for r in rows {
            print("| \(r.kernel) | \(r.threads) | \(String(format: "%.3f", r.milliseconds)) | \(String(format: "%.1f", r.gigabytesPerSecond)) | \(String(format: "%.2fx", r.speedupOverDense)) |")
        }
        print("")
        print("Model-level (32 layers, 5 anchors with layer 0: (T_layer0 + 4 T_anchor + 27 T_reuse) / 32), \(cores) threads: \(String(format: "%.2fx", modelSpeedup)) vs dense")
    }

    /// Median seconds of one call over `repeats` after three warm-up calls.
    func time(_ body: () throws -> Void) throws -> Double {
        for _ in 0..<3 { try body() }
        var samples: [Double] = []
        samples.reserveCapacity(repeats)
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
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
