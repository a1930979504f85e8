import Foundation
import Testing
@testable import KascadeCore

/// Runs the built `kascade` binary (built beside the test bundle by `swift test`).
enum KascadeBinary {
    static var url: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kascade")
    }
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func run(_ executable: URL, _ args: [String]) throws -> (code: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

@Suite("kascade attend", .serialized)
struct AttendCommandTests {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func write(_ name: String, _ shape: [Int], _ fill: (Int) -> Float = { _ in Float.random(in: -1...1) }) throws {
        let n = shape.reduce(1, *)
        try NPY.write(try HostTensor(shape: shape, scalars: (0..<n).map(fill)), to: path(name))
    }

    @Test("matches NumPy: scripts/check_attend.py runs the binary against a float64 reference")
    func numpyReference() throws {
        let binary = KascadeBinary.url
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "kascade binary not built at \(binary.path)")
        let script = KascadeBinary.packageRoot.appendingPathComponent("scripts/check_attend.py").path
        let r = try KascadeBinary.run(URL(fileURLWithPath: "/usr/bin/env"),
                                      ["python3", script, binary.path, "--seed", String(Int.random(in: 0..<1_000_000))])
        #expect(r.code == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("ok: T=200 causal=True"))
    }

    static let badCases: [(String, [String], String)] = [
        ("k and v shapes differ", ["--method", "dense", "--v", "v_short.npy"], "differ"),
        ("H not a multiple of G", ["--method", "dense", "--q", "q_h9.npy"], "not a multiple"),
        ("budget zero", ["--method", "anchor", "--budget", "0"], "outside (0, 1]"),
        ("budget above one", ["--method", "anchor", "--budget", "1.5"], "outside (0, 1]"),
        ("NaN in q", ["--method", "dense", "--q", "q_nan.npy"], "non-finite"),
        ("Inf in v", ["--method", "reuse", "--v", "v_inf.npy", "--indices", "idx.npy"], "non-finite"),
        ("truncated file", ["--method", "dense", "--k", "k_trunc.npy"], "truncated"),
        ("Fortran order", ["--method", "dense", "--k", "k_fortran.npy"], "Fortran"),
        ("int32 queries", ["--method", "dense", "--q", "idx.npy"], "dtype"),
        ("missing file", ["--method", "dense", "--q", "absent.npy"], "absent.npy"),
        ("rank 3 queries", ["--method", "dense", "--q", "q_rank3.npy"], "4 axes"),
        ("causal T > N", ["--method", "dense", "--causal", "--q", "q_long.npy"], "more queries"),
        ("index out of range", ["--method", "reuse", "--indices", "idx_bad.npy"], "outside"),
        ("indices of the wrong shape", ["--method", "reuse", "--indices", "idx_shape.npy"], "must be"),
        ("reuse without indices", ["--method", "reuse"], "needs indices"),
        ("cuda device", ["--method", "dense", "--device", "cuda"], "cuda"),
        ("cuda anchor", ["--method", "anchor", "--device", "cuda"], "cuda"),
        ("cuda streaming", ["--method", "streaming", "--device", "cuda"], "cuda"),
        ("cuda tile other than 32", ["--method", "anchor", "--device", "cuda", "--causal", "--tile", "16"], "tiles of 32"),
        ("unknown method", ["--method", "magic"], "unknown method"),
    ]

    @Test("bad input: one-line error, non-zero exit, no output file", arguments: badCases)
    func badInput(c: (String, [String], String)) throws {
        let binary = KascadeBinary.url
        try #require(FileManager.default.isExecutableFile(atPath: binary.path))
        defer { try? FileManager.default.removeItem(at: dir) }
        let B = 1, H = 6, G = 2, T = 4, N = 40, d = 8
        try write("q.npy", [B, H, T, d]); try write("k.npy", [B, G, N, d]); try write("v.npy", [B, G, N, d])
        try write("v_short.npy", [B, G, N - 1, d]); try write("q_h9.npy", [B, 9, T, d]); try write("q_rank3.npy", [H, T, d])
        try write("q_long.npy", [B, H, N + 1, d])
        try write("q_nan.npy", [B, H, T, d]) { $0 == 17 ? .nan : 0.5 }
        try write("v_inf.npy", [B, G, N, d]) { $0 == 3 ? .infinity : 0.5 }
        let good = NPY.encode(try HostTensor(shape: [B, G, N, d], scalars: [Float](repeating: 1, count: B * G * N * d)))
        try Data(good.dropLast(9)).write(to: URL(fileURLWithPath: path("k_trunc.npy")))
        var fortran = good
        let needle = Array("False".utf8)
        let at = (0..<(good.count - 5)).first { Array(good[$0..<($0 + 5)]) == needle }!
        fortran.replaceSubrange(at..<(at + 5), with: Array("True ".utf8))
        try Data(fortran).write(to: URL(fileURLWithPath: path("k_fortran.npy")))
        try NPY.write(HostTensor<Int32>(shape: [B, G, T, 3], repeating: 1), to: path("idx.npy"))
        try NPY.write(try HostTensor<Int32>(shape: [B, G, T, 1], scalars: [0, 1, 2, 40, 0, 0, 0, 0]), to: path("idx_bad.npy"))
        try NPY.write(HostTensor<Int32>(shape: [B, G, T + 1, 1], repeating: 0), to: path("idx_shape.npy"))

        var args = ["attend", "--q", path("q.npy"), "--k", path("k.npy"), "--v", path("v.npy"), "--out", path("o.npy"), "--k-min", "4"]
        var i = 0
        while i < c.1.count {
            let flag = c.1[i]
            if flag == "--causal" { args.append(flag); i += 1; continue }
            var value = c.1[i + 1]
            if value.hasSuffix(".npy") { value = path(value) }
            if let existing = args.firstIndex(of: flag) { args[existing + 1] = value } else { args += [flag, value] }
            i += 2
        }
        let r = try KascadeBinary.run(binary, args)
        #expect(r.code != 0, "\(c.0): exit code \(r.code)")
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "\(c.0): \(r.stderr)")
        #expect(r.stderr.contains(c.2), "\(c.0): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path("o.npy")), "\(c.0): output written")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test("the command logic returns typed errors and anchor indices padded per tile")
    func coreLogic() throws {
        let q = HostTensor<Float>(shape: [1, 4, 70, 8], repeating: 0.1)
        let k = try HostTensor<Float>(shape: [1, 2, 100, 8], scalars: (0..<1600).map { _ in Float.random(in: -1...1) })
        let budget = try Budget(fraction: 0.1, kMin: 40)
        let r = try SingleLayerAttention.run(method: .anchor, q: q, k: k, v: k, causal: true, budget: budget)
        // Positions 30..99: tiles at 0, 32, 64, 96; k_t = min(max(40, ceil(0.1 t0)), t0) = 0, 32, 40, 40.
        #expect(r.indices!.shape == [1, 2, 4, 40])
        for g in 0..<2 {
            #expect((0..<40).allSatisfy { r.indices![0, g, 0, $0] == -1 })
            #expect((0..<40).map { r.indices![0, g, 1, $0] } == (0..<32).map(Int32.init) + [Int32](repeating: -1, count: 8))
            #expect((0..<40).allSatisfy { r.indices![0, g, 3, $0] >= 0 && r.indices![0, g, 3, $0] < 96 })
        }
        #expect(throws: AttentionError.self) {
            try SingleLayerAttention.run(method: .dense, q: HostTensor<Float>(shape: [1, 3, 1, 8], repeating: 0), k: k, v: k, causal: false, budget: budget)
        }
    }
}
