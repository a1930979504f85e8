import ArgumentParser
import Foundation
import KascadeCUDA

/// `kascade bench-cuda`: times the GPU decode kernels at the paper's shapes.
struct CUDABenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-cuda",
        abstract: "Time the GPU decode kernels (dense, Kascade layer 0, anchor, reuse) on generated inputs.",
        discussion: "Example: kascade bench-cuda --json bench.json --batches 1,8,64 --lengths 8192,32768"
    )

    @Option(help: "Batch sizes, comma-separated.") var batches: String = "1,8,64"
    @Option(help: "Context lengths, comma-separated.") var lengths: String = "8192,32768,65536,131072"
    @Option(help: "Budget fraction of the sparse kernels.") var fraction: Double = 0.10
    @Option(help: "Kernel variants to time, comma-separated MAIN[+GATHER], each TILExSTAGESxWAVES (tile 32, 64 or mma; stages 2-4; suffix p0: mma without the L2 prefetch); GATHER (anchor output, reuse layers, StreamingLLM) defaults to MAIN.")
    var variants: String = "mma2x4"
    @Option(help: "Write the results as JSON to this file.") var json: String?
    @Option(help: "Dense causal prefill lengths (batch 1, T = N), comma-separated; empty for none.")
    var prefillLengths: String = "8192,32768,65536"
    @Option(help: "Write the prefill results as JSON to this file.") var prefillJson: String?
    @Flag(help: "Time only the prefill kernel.") var prefillOnly = false
    @Flag(help: "Time only Quest, Twilight and vAttention decode (with dense in the same run).") var peersOnly = false
    @Flag(help: "Skip Quest, Twilight and vAttention decode.") var noPeers = false
    @Option(help: "Write the Quest/Twilight/vAttention results as JSON here (default: beside --json, suffix .peers.json).")
    var peersJson: String?
    @Option(help: "Input modes of the Quest/Twilight/vAttention bench, comma-separated: random (flat attention), peaked.")
    var peerInputs: String = "random,peaked"

    func run() throws {
        let bs = batches.split(separator: ",").compactMap { Int($0) }
        let ns = lengths.split(separator: ",").compactMap { Int($0) }
        guard !bs.isEmpty, !ns.isEmpty, bs.allSatisfy({ $0 > 0 }), ns.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--batches and --lengths need positive comma-separated integers")
        }
        let vs = variants.split(separator: ",").compactMap { item -> (main: DecodeVariant, gather: DecodeVariant)? in
            let parts = item.split(separator: "+")
            guard let m = DecodeVariant(String(parts[0])) else { return nil }
            guard parts.count > 1 else { return (m, m) }
            guard parts.count == 2, let gv = DecodeVariant(String(parts[1])) else { return nil }
            return (m, gv)
        }
        guard !vs.isEmpty, vs.count == variants.split(separator: ",").count else { throw ValidationError("--variants needs TILExSTAGESxWAVES items, got \(variants)") }
        let modes = peerInputs.split(separator: ",").compactMap { PeerInputMode(rawValue: String($0)) }
        guard !modes.isEmpty, modes.count == peerInputs.split(separator: ",").count else {
            throw ValidationError("--peer-inputs takes random and/or peaked, got \(peerInputs)")
        }
        let prefillItems = prefillLengths.split(separator: ",")
        let ps = peersOnly ? [] : prefillItems.compactMap { Int($0) }.filter { $0 > 0 }
        guard peersOnly || ps.count == prefillItems.count else {
            throw ValidationError("--prefill-lengths needs positive comma-separated integers (or an empty list), got \(prefillLengths)")
        }
        do {
            let dev = try CUDADevice()
            let compiler = try KernelCompiler(architecture: dev.architecture)
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            if !prefillOnly && !peersOnly {
                let report = try DecodeBench.run(device: dev, compiler: compiler, batches: bs, lengths: ns, fraction: fraction,
                                                 variants: vs) {
                    print($0)
                }
                if let json { try writeAtomically(json, enc.encode(report)) }
            }
            if !prefillOnly && !noPeers {
                let report = try PeerBench.run(device: dev, compiler: compiler, batches: bs, lengths: ns, fraction: fraction,
                                               modes: modes) { print($0) }
                let path = peersJson ?? json.map { ($0.hasSuffix(".json") ? String($0.dropLast(5)) : $0) + ".peers.json" }
                if let path { try writeAtomically(path, enc.encode(report)) }
            }
            if !ps.isEmpty {
                let report = try PrefillBench.run(device: dev, compiler: compiler, lengths: ps) { print($0) }
                if let path = prefillJson { try writeAtomically(path, enc.encode(report)) }
            }
        } catch let e as CUDAError {
            FileHandle.standardError.write("error: \(e)\n".data(using: .utf8)!)
            throw ExitCode.failure
        }
    }
}
