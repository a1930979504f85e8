import ArgumentParser
import Foundation
import KascadeCUDA

/// `kascade check --device cuda`: every GPU kernel against the CPU reference.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check every GPU kernel against the CPU reference on fresh random inputs.",
        discussion: "Example: kascade check --device cuda --json check.json"
    )

    @Option(help: "Device to check: cuda.") var device: String = "cuda"
    @Flag(help: "A few small shapes (for compute-sanitizer).") var small = false
    @Flag(help: "Only compile the main builds of each kernel source with NVRTC and print the compiler's resource report (no GPU needed; the check itself also uses builds this does not compile).")
    var compileOnly = false
    @Option(help: "Architecture for --compile-only.") var arch: String = "sm_90a"
    @Option(help: "Seed of the random inputs (default: from the clock).") var seed: UInt64?
    @Option(help: "Write the results as JSON to this file.") var json: String?
    @Flag(help: "Check only the prefill kernel.") var prefillOnly = false
    @Flag(help: "Check only the Quest, Twilight and vAttention decode kernels.") var peersOnly = false
    @Flag(help: "Check only the Kascade prefill anchor.") var anchorOnly = false
    @Flag(help: "Check only the dense and Kascade decode kernels (every selection path).") var decodeOnly = false

    func validate() throws {
        guard device == "cuda" else { throw ValidationError("check compares GPU kernels with the CPU: --device must be cuda, got \(device)") }
    }

    func run() throws {
        do {
            if compileOnly { try compileAll(); return }
            let dev = try CUDADevice()
            let compiler = try KernelCompiler(architecture: dev.architecture)
            let s = seed ?? UInt64(Date().timeIntervalSince1970 * 1000)
            print("device: \(dev.name) (\(dev.architecture), \(dev.multiprocessors) SMs), seed \(s)")
            let log = { (line: String) in FileHandle.standardError.write((line + "\n").data(using: .utf8)!) }
            var rows: [DecodeCheckRow] = []
            if !prefillOnly && !anchorOnly && !peersOnly {
                rows += try DecodeCheck.run(device: dev, compiler: compiler, cases: DecodeCheck.grid(small: small), seed: s, progress: log)
                if !decodeOnly { rows += try PolicyCheck.run(device: dev, seed: s, small: small) }
            }
            if !prefillOnly && !anchorOnly && !decodeOnly {
                rows += try PeerCheck.run(device: dev, compiler: compiler, cases: PeerCheck.grid(small: small), seed: s, progress: log)
            }
            if !anchorOnly && !peersOnly && !decodeOnly {
                rows += try PrefillCheck.run(device: dev, compiler: compiler, cases: PrefillCheck.grid(small: small), seed: s, progress: log)
                rows += try PrefillReuseCheck.run(device: dev, compiler: compiler, cases: PrefillReuseCheck.grid(small: small), seed: s, progress: log)
            }
            if !peersOnly && !decodeOnly {
                rows += try PrefillAnchorCheck.run(device: dev, compiler: compiler, cases: PrefillAnchorCheck.grid(small: small), seed: s, progress: log)
            }
            print(table(rows))
            if let json {
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                try writeAtomically(json, enc.encode(rows))
            }
            let failed = rows.filter { !$0.passed }
            print("\(rows.count - failed.count) passed, \(failed.count) failed")
            if !failed.isEmpty { throw ExitCode.failure }
        } catch let e as CUDAError {
            FileHandle.standardError.write("error: \(e)\n".data(using: .utf8)!)
            throw ExitCode.failure
        }
    }

    private func compileAll() throws {
        let compiler = try KernelCompiler(architecture: arch)
        compiler.verbose = true
        for dtype in KVDType.allCases {
            for d in [64, 128] {
                for g in [1, 3, 4, 8] {
                    for (t, st) in [(32, 3), (64, 2)] {
                        _ = try compiler.cubin(.decodeAttention, defines: ["KV_BF16": dtype == .bf16 ? "1" : "0", "HEAD_DIM": "\(d)",
                                                                          "GROUP": "\(g)", "TILE_KEYS": "\(t)", "PIPE_STAGES": "\(st)"])
                    }
                }
            }
        }
        for dtype in KVDType.allCases { for d in [64, 128] { for g in [1, 3, 4, 8, 16] { for st in [2, 3] { for prefetch in [false, true] {
            var defs = ["KV_BF16": dtype == .bf16 ? "1" : "0", "HEAD_DIM": "\(d)", "GROUP": "\(g)", "PIPE_STAGES": "\(st)"]
            if prefetch { defs["L2_PREFETCH"] = "1" }
            _ = try compiler.cubin(.decodeAttentionMMA, defines: defs)
        } } } } }
        for g in [1, 2, 3, 4, 8, 16] { _ = try compiler.cubin(.decodeTopK, defines: ["GROUP": "\(g)"]) }
        for dtype in KVDType.allCases { for d in [64, 128] { for g in [1, 3, 4, 8, 16] {
            _ = try compiler.cubin(.decodePeers, defines: ["KV_BF16": dtype == .bf16 ? "1" : "0", "HEAD_DIM": "\(d)", "GROUP": "\(g)"])
        } } }
        for dtype in KVDType.allCases { for d in [64, 128] { for (w, m, n) in [(4, 1, 64), (8, 1, 64), (4, 2, 32), (4, 2, 64), (8, 2, 32)] {
            _ = try compiler.cubin(.prefillAttention, defines: ["KV_BF16": dtype == .bf16 ? "1" : "0", "HEAD_DIM": "\(d)", "WARPS": "\(w)",
                                                                "MTILES": "\(m)", "TILE_KEYS": "\(n)"])
        } } }
        if arch == "sm_90a" { for dtype in KVDType.allCases { for (d, st) in [(64, 3), (128, 2)] {
            _ = try compiler.cubin(.prefillWgmma, defines: ["KV_BF16": dtype == .bf16 ? "1" : "0", "HEAD_DIM": "\(d)", "TILE_N": "128", "STAGES": "\(st)"])
        } } }
        for dtype in KVDType.allCases { for d in [64, 128] { for g in [1, 2, 3, 4, 8] {
            _ = try compiler.cubin(.prefillAnchor, defines: ["KV_BF16": dtype == .bf16 ? "1" : "0", "HEAD_DIM": "\(d)", "GROUP": "\(g)"])
        } } }
        for (key, log) in compiler.logs {
            print("== \(key)")
            for line in log.split(separator: "\n") where line.contains("registers") || line.contains("spill") || line.contains("Compiling") || line.contains("warning") {
                print("   \(line)")
            }
        }
        print("compiled \(compiler.logs.count) kernel modules for \(arch)")
    }

    private func table(_ rows: [DecodeCheckRow]) -> String {
        var s = "| kernel | shape | rel. error | top-k agreement | non-tie mismatches | k | result |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        for r in rows {
            let agree = r.agreement.map { String(format: "%.4f", $0) } ?? "-"
            let hard = r.hardMismatches.map { "\($0)" } ?? "-"
            let k = r.k.map { "\($0)" } ?? "-"
            s += "| \(r.kernel) | \(r.shape) | \(String(format: "%.2e", r.relError)) | \(agree) | \(hard) | \(k) | \(r.passed ? (r.note.isEmpty ? "pass" : "pass (\(r.note))") : "FAIL \(r.note)") |\n"
        }
        return s
    }
}

/// Writes `data` to a temporary file beside `path`, then renames it into place.
func writeAtomically(_ path: String, _ data: Data) throws {
    let tmp = path + ".tmp"
    try data.write(to: URL(fileURLWithPath: tmp))
    if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
    try FileManager.default.moveItem(atPath: tmp, toPath: path)
}
