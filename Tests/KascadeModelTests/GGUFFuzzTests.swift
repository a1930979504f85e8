import Foundation
import Testing
@testable import KascadeModel

/// Flips and cuts bytes of GGUF files: every case must parse or throw a `GGUFError`, never crash.
@Suite("GGUF fuzzing")
struct GGUFFuzzTests {
    /// A small file with every value kind, nested arrays and tensors of each readable type.
    static func synthetic() -> [UInt8] {
        var rng = TestRandom(seed: 7)
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("llama.block_count", .uint32(2))
        w.set("llama.rope.freq_base", .float32(10000))
        w.set("tokenizer.ggml.tokens", .array((0..<20).map { .string("tok\($0)") }))
        w.set("tokenizer.ggml.token_type", .array((0..<20).map { .int32(Int32($0 % 3)) }))
        w.set("nested", .array([.array([.uint64(1), .uint64(2)]), .array([.uint64(3)])]))
        w.set("flag", .bool(true))
        for (i, t) in [GGMLType.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1].enumerated() {
            w.addTensor("blk.\(i).w", shape: [32, 2], type: t, values: rng.normals(64))
        }
        return w.bytes()
    }

    /// Parses `bytes`; on success reads every tensor. Returns whether it parsed.
    static func exercise(_ bytes: [UInt8]) -> Bool {
        do {
            let f = try GGUFFile(bytes: bytes)
            for t in f.tensors {
                #expect(t.fileOffset >= f.dataOffset && t.fileOffset + t.byteCount <= bytes.count)
                if t.type.canDequantize { _ = try f.dequantize(t) }
            }
            return true
        } catch is GGUFError {
            return false
        } catch {
            Issue.record("unexpected error type \(error)")
            return false
        }
    }

    @Test("random flips and cuts of a synthetic file only ever throw GGUFError", arguments: [1, 2, 3])
    func syntheticFuzz(seed: UInt64) {
        let good = Self.synthetic()
        #expect(Self.exercise(good))
        let headerEnd = (try? GGUFFile(bytes: good))?.dataOffset ?? good.count
        var rng = TestRandom(seed: seed)
        var failures = 0
        for i in 0..<1000 {
            var b = good
            if i % 4 == 0 {
                b.removeLast(Int.random(in: 1...b.count, using: &rng))
            } else {
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let at = Int.random(in: 0..<headerEnd, using: &rng)
                    b[at] = i % 3 == 0 ? UInt8.random(in: 0...255, using: &rng) : b[at] ^ (1 << UInt8.random(in: 0...7, using: &rng))
                }
            }
            if !Self.exercise(b) { failures += 1 }
        }
        // Cuts (a quarter) always fail; many flips land in values and still parse.
        #expect(failures >= 250 && failures < 1000)
    }

    @Test("flips and cuts in the default model's header only ever throw GGUFError", .enabled(if: DefaultModel.available))
    func realFileFuzz() throws {
        var full = try [UInt8](Data(contentsOf: URL(fileURLWithPath: DefaultModel.path)))
        let headerEnd = try GGUFFile(bytes: full).dataOffset
        var rng = TestRandom(seed: 11)
        for _ in 0..<8 {
            let cut = Int.random(in: 0..<headerEnd, using: &rng)
            #expect(!Self.exercise(Array(full.prefix(cut))))
        }
        // Flips near the start hit counts, types and lengths; later ones land in token strings.
        for i in 0..<6 {
            let at = i < 3 ? Int.random(in: 0..<64, using: &rng) : Int.random(in: 0..<headerEnd, using: &rng)
            let old = full[at]
            full[at] = old ^ (1 << UInt8.random(in: 0...7, using: &rng))
            _ = Self.exercise(full)
            full[at] = old
        }
    }
}
