import Foundation
import Testing
@testable import KascadeModel

/// Runs the built `kascade` binary (built beside the test bundle by `swift test`).
enum ModelCLI {
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kascade").path
    }

    static func run(_ args: [String]) throws -> (code: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
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

    static var available: Bool { DefaultModel.available && FileManager.default.isExecutableFile(atPath: binary) }
}

@Suite("kascade inspect, generate and score", .serialized, .enabled(if: ModelCLI.available))
struct ModelCommandTests {
    @Test("inspect lists the default model's metadata and tensors, as text and JSON")
    func inspect() throws {
        let text = try ModelCLI.run(["inspect", DefaultModel.path])
        #expect(text.code == 0)
        #expect(text.stdout.contains("llama.block_count [u32] = 30"))
        #expect(text.stdout.contains("blk.29.ffn_down.weight"))
        let json = try ModelCLI.run(["inspect", DefaultModel.path, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((object?["tensors"] as? [Any])?.count == 272)
        #expect(object?["version"] as? Int == 3)
    }

    @Test("the greedy chat answer to the capital of France contains Paris")
    func paris() throws {
        let r = try ModelCLI.run(["generate", "--model", DefaultModel.path, "--chat", "--prompt", "What is the capital of France?",
                                  "--max-tokens", "24", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let text = object?["text"] as? String ?? ""
        #expect(text.contains("Paris"), "answer: \(text)")
        #expect((object?["generation_tokens_per_s"] as? Double ?? 0) > 0)
    }

    @Test("score reports a perplexity and writes [T, vocab] float32 logits")
    func score() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("score-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("t.txt").path
        try "The capital of France is Paris. The capital of Italy is Rome.".write(toFile: text, atomically: true, encoding: .utf8)
        let npy = dir.appendingPathComponent("l.npy").path
        let r = try ModelCLI.run(["score", text, "--model", DefaultModel.path, "--logits-out", npy, "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let tokens = try #require(object?["tokens"] as? Int)
        let logProbs = try #require(object?["log_probs"] as? [Double])
        #expect(logProbs.count == tokens - 1 && logProbs.allSatisfy { $0 <= 0 })
        let ppl = try #require(object?["perplexity"] as? Double)
        #expect(ppl > 1 && ppl < 1000)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: npy)[.size] as? Int)
        #expect(size >= tokens * 49152 * 4 && size < tokens * 49152 * 4 + 256)
    }

    static let badCases: [(String, [String], String)] = [
        ("empty prompt", ["generate", "--prompt", ""], "empty"),
        ("not a GGUF file", ["generate", "--model", "/etc/passwd", "--prompt", "hi"], "not a GGUF file"),
        ("missing model file", ["generate", "--model", "/nonexistent.gguf", "--prompt", "hi"], "does not exist"),
        ("prompt longer than the context", ["generate", "--synthetic-prompt", "9000"], "exceeds the context"),
        ("missing text file", ["score", "/nonexistent.txt"], "cannot read"),
        ("no GGUF to inspect", ["inspect", "/nonexistent.gguf"], "cannot open"),
    ]

    @Test("bad input exits non-zero with a one-line error", arguments: badCases.map(\.0))
    func badInput(name: String) throws {
        let (_, args, needle) = Self.badCases.first { $0.0 == name }!
        let withModel = args.contains("--model") || args[0] == "inspect" ? args : args + ["--model", DefaultModel.path]
        let r = try ModelCLI.run(withModel)
        #expect(r.code != 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains(needle), "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}
