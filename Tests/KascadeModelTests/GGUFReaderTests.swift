import Foundation
import Testing
@testable import KascadeModel

@Suite("GGUF reader")
struct GGUFReaderTests {
    @Test("dequantises each type exactly like the gguf Python package",
          arguments: GGUFReferenceFixture.blocks.map { $0.0 })
    func dequantisesLikeReference(typeName: String) throws {
        let (_, id, hex, bits) = GGUFReferenceFixture.blocks.first { $0.0 == typeName }!
        let type = GGMLType(rawValue: id)
        var w = GGUFWriter()
        w.addTensor("x", shape: [bits.count], type: type, data: [UInt8](hex: hex))
        let file = try GGUFFile(bytes: w.bytes())
        let got = try file.dequantize(file.requireTensor("x"))
        #expect(got.count == bits.count)
        for (g, b) in zip(got, bits) { #expect(g.bitPattern == b, "\(typeName): \(g) != \(Float(bitPattern: b))") }
    }

    @Test("round-trips every metadata value type, nested arrays and tensors in versions 2 and 3",
          arguments: [(32, 2), (64, 3)])
    func roundTrip(alignment: Int, version: UInt8) throws {
        var rng = TestRandom(seed: UInt64(alignment))
        let values: [(String, GGUFValue)] = [
            ("u8", .uint8(200)), ("i8", .int8(-100)), ("u16", .uint16(60000)), ("i16", .int16(-30000)),
            ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)), ("u64", .uint64(.max)),
            ("i64", .int64(.min)), ("f32", .float32(3.5)), ("f64", .float64(-2.25)), ("bool", .bool(true)),
            ("str", .string("héllo\nwörld")), ("strs", .array([.string("a"), .string(""), .string("ü")])),
            ("ints", .array([.int32(1), .int32(-2), .int32(3)])),
            ("nested", .array([.array([.uint8(1), .uint8(2)]), .array([.uint8(3)])])),
            ("empty", .array([])),
        ]
        var w = GGUFWriter(alignment: alignment)
        for (k, v) in values { w.set(k, v) }
        let types: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1]
        var originals: [[Float]] = []
        for (i, t) in types.enumerated() {
            let x = rng.normals(64 * (i + 1))
            originals.append(x)
            w.addTensor("t\(i)", shape: [64, i + 1], type: t, values: x)
        }
        var bytes = w.bytes()
        bytes[4] = version  // version 2 has the same layout as version 3 for little-endian files
        let file = try GGUFFile(bytes: bytes)
        #expect(file.alignment == alignment)
        #expect(file.version == Int(version))
        for (k, v) in values { #expect(file.metadata[k] == v, "key \(k)") }
        #expect(file.stringArray("strs") == ["a", "", "ü"])
        #expect(file.intArray("ints") == [1, -2, 3])
        #expect(file.int("u64") == nil)  // does not fit in Int
        #expect(file.tensors.map(\.name) == types.indices.map { "t\($0)" })
        // Quantisation error bounds per type: exact, half, bfloat16, 8-bit, 4-bit.
        let tolerance: [Float] = [0, 1e-3, 1e-2, 0.02, 0.35, 0.25]
        for (i, t) in file.tensors.enumerated() {
            #expect(t.fileOffset % alignment == 0)
            #expect(t.shape == [64, i + 1])
            let back = try file.dequantize(t)
            let amax = originals[i].map(abs).max()!
            let err = zip(back, originals[i]).map { abs($0 - $1) }.max()!
            #expect(err <= tolerance[i] * amax, "\(t.type): error \(err)")
        }
    }

    @Test("rejects malformed headers with a typed error")
    func typedErrors() throws {
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.addTensor("a", shape: [32], type: .f32, values: [Float](repeating: 1, count: 32))
        let good = w.bytes()
        func parse(_ b: [UInt8]) -> GGUFError? {
            do { _ = try GGUFFile(bytes: b); return nil } catch let e as GGUFError { return e } catch { return nil }
        }
        var bad = good; bad[0] = 0
        #expect(parse(bad) == .badMagic(0x4655_4700))
        bad = good; bad[4] = 1
        #expect(parse(bad) == .unsupportedVersion(1))
        #expect(parse([]) == .truncated(offset: 0, need: 4, length: 0))
        #expect(parse(Array(good.prefix(good.count - 1))) == .tensorOutOfBounds(tensor: "a", offset: good.count - 128, bytes: 128, length: good.count - 1))
        var dup = GGUFWriter(); dup.set("k", .bool(true)); dup.set("k", .bool(false))
        #expect(parse(dup.bytes()) == .duplicateKey("k"))
        var align = GGUFWriter(); align.set("general.alignment", .uint32(3))
        #expect(parse(align.bytes()) == .badAlignment("3"))
        var deep: GGUFValue = .array([.uint8(1)])
        for _ in 0..<GGUFFile.maxNesting { deep = .array([deep]) }
        var nest = GGUFWriter(); nest.set("deep", deep)
        #expect(parse(nest.bytes()) == .nestingTooDeep(key: "deep", depth: GGUFFile.maxNesting + 1))
        var q5 = GGUFWriter(); q5.addTensor("w", shape: [32], type: .q5_0, data: [UInt8](repeating: 0, count: 22))
        let f = try GGUFFile(bytes: q5.bytes())
        #expect(throws: GGUFError.unsupportedTensorType(tensor: "w", type: .q5_0)) { try f.dequantize(f.tensors[0]) }
        #expect(GGUFError.unsupportedTensorType(tensor: "w", type: .q5_0).description == "unsupported tensor type Q5_0 in tensor w")
        #expect(throws: GGUFError.missingTensor("nope")) { try f.requireTensor("nope") }
        #expect(throws: GGUFError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
    }

    @Test("reads the default model's header like gguf.GGUFReader", .enabled(if: DefaultModel.available))
    func readsDefaultModel() throws {
        let file = try GGUFFile(path: DefaultModel.path)
        #expect(file.tensors.count == GGUFReferenceFixture.modelTensorCount)
        #expect(file.metadata.count == GGUFReferenceFixture.modelMetadataCount)
        #expect(file.string("general.architecture") == "llama")
        #expect(file.int("llama.block_count") == 30)
        #expect(file.stringArray("tokenizer.ggml.tokens")?.count == 49152)
        for (name, shape, type, offset, bits) in GGUFReferenceFixture.modelTensors {
            let t = try file.requireTensor(name)
            #expect(t.shape == shape && t.type.rawValue == type && t.fileOffset == offset, "\(name)")
            let values = try file.dequantize(t)
            #expect(values.prefix(8).map(\.bitPattern) == bits, "\(name)")
        }
    }
}
