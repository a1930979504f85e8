import Testing
@testable import KascadeCUDA

@Suite("CUDA runtime without a GPU")
struct CUDARuntimeTests {
    @Test("opening the device either works or throws a one-line CUDA error, never crashes")
    func deviceOpensOrExplains() {
        do {
            let dev = try CUDADevice()
            #expect(dev.multiprocessors > 0)
        } catch {
            let text = String(describing: error)
            #expect(!text.contains("\n"))
            #expect(text.hasPrefix("CUDA") || text.hasPrefix("NVRTC"))
        }
    }

    @Test("a missing library names what was tried")
    func missingLibrary() {
        #expect(throws: CUDAError.self) { _ = try SharedLibrary(name: "libdoesnotexist.so", candidates: ["libdoesnotexist.so.9"]) }
        let e = CUDAError.libraryNotFound(library: "libcuda.so.1", tried: ["a", "b"])
        #expect(e.description == "CUDA unavailable: cannot load libcuda.so.1 (tried a, b)")
    }

    @Test("a compile error keeps the log's error lines on one line")
    func compileErrorIsOneLine() {
        let e = CUDAError.compile(kernel: "k.cu", log: "k.cu(3): error: x undefined\nk.cu(9): error: y undefined\n2 errors")
        #expect(!e.description.contains("\n"))
        #expect(e.description.contains("x undefined") && e.description.contains("y undefined"))
    }

    @Test("every kernel the launchers call is an extern C symbol of the embedded sources",
          arguments: [("decode_dense_split", KernelSource.decodeAttention), ("decode_dense_logits_split", .decodeAttention),
                      ("decode_scores_split", .decodeAttention), ("decode_sparse_split", .decodeAttention),
                      ("decode_combine", .decodeTopK), ("decode_pool", .decodeTopK), ("decode_select", .decodeTopK),
                      ("fill_random16", .decodeTopK), ("decode_dense_split", .decodeAttentionMMA),
                      ("decode_dense_logits_split", .decodeAttentionMMA), ("decode_scores_split", .decodeAttentionMMA),
                      ("decode_sparse_split", .decodeAttentionMMA)])
    func kernelsEmbedded(name: String, source: KernelSource) {
        #expect(source.text.contains("extern \"C\" __global__ void") )
        #expect(source.text.contains(" \(name)("))
    }

    @Test("every kernel of a source that overlaps launches waits for the kernel before it first",
          arguments: KernelSource.allCases.filter(\.overlapsLaunches))
    func overlappingKernelsWaitFirst(source: KernelSource) {
        let pieces = source.text.split(separator: "__global__", omittingEmptySubsequences: false).dropFirst()
        #expect(pieces.count >= 5)
        for piece in pieces {
            guard let brace = piece.firstIndex(of: "{") else { Issue.record("a kernel of \(source) has no body"); continue }
            let body = piece[piece.index(after: brace)...].drop { $0 == " " || $0 == "\\" || $0 == "\n" }
            #expect(body.hasPrefix("grid_dependency_sync();"), "\(source): \(piece.prefix(80))")
        }
    }

    @Test("an overlapped launch passes the driver a CUlaunchConfig with one programmatic-serialization attribute")
    func overlapConfigLayout() {
        let stream = OpaquePointer(bitPattern: 0x1234_5678)
        let code = KernelFunction.withOverlapConfig(grid: (7, 8, 9), block: 128, sharedBytes: 4096, stream: stream) { config in
            let dims = (0..<7).map { config.load(fromByteOffset: 4 * $0, as: UInt32.self) }
            #expect(dims == [7, 8, 9, 128, 1, 1, 4096])
            #expect(config.load(fromByteOffset: 32, as: UInt.self) == 0x1234_5678)
            let attrs = UnsafeRawPointer(bitPattern: config.load(fromByteOffset: 40, as: UInt.self))
            #expect(attrs == config + 56)
            #expect(config.load(fromByteOffset: 48, as: UInt32.self) == 1)
            #expect(attrs?.load(as: Int32.self) == 6)                         // CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION
            #expect(attrs?.load(fromByteOffset: 8, as: Int32.self) == 1)      // allowed
            return 42
        }
        #expect(code == 42)
    }

    @Test("cubins round-trip through the disk cache file helpers")
    func diskRoundTrip() {
        let path = "/tmp/kascade-cuda-test-\(UInt32.random(in: 0...UInt32.max)).bin"
        let bytes = (0..<1000).map { _ in UInt8.random(in: 0...255) }
        #expect(DiskFile.writeAtomically(path, bytes))
        #expect(DiskFile.read(path) == bytes)
        #expect(DiskFile.read(path + ".missing") == nil)
    }

    @Test("source hashes differ when options differ")
    func hashesDiffer() {
        var a = FNV1a(), b = FNV1a()
        a.add("src"); a.add("-DGROUP=4")
        b.add("src"); b.add("-DGROUP=8")
        #expect(a.value != b.value)
    }
}

@Suite("16-bit conversions")
struct HalfPrecisionTests {
    @Test("bf16 rounds to nearest even and round-trips", arguments: [1, 7, 1234])
    func bf16(seed: Int) {
        var rng = SplitMix(seed: UInt64(seed))
        for _ in 0..<2000 {
            let x = rng.uniform() * 100
            let b = HalfPrecision.bits(x, .bf16)
            let y = HalfPrecision.value(b, .bf16)
            // Nearest: no other bf16 neighbour is closer.
            let up = HalfPrecision.value(b &+ 1, .bf16), down = HalfPrecision.value(b &- 1, .bf16)
            #expect(abs(y - x) <= abs(up - x) && abs(y - x) <= abs(down - x))
            #expect(HalfPrecision.bits(y, .bf16) == b)
        }
    }

    @Test("fp16 matches Float16", arguments: [3, 99])
    func fp16(seed: Int) {
        var rng = SplitMix(seed: UInt64(seed))
        for _ in 0..<2000 {
            let x = rng.uniform() * 10
            #expect(HalfPrecision.value(HalfPrecision.bits(x, .fp16), .fp16) == Float(Float16(x)))
        }
    }

    @Test("fixed-point formatting", arguments: [(1.25, 2, "1.25"), (2.5, 0, "3"), (-0.1234, 3, "-0.123"), (12.0, 2, "12.00")])
    func format(x: Double, digits: Int, expected: String) {
        #expect(formatFixed(x, digits) == expected)
    }
}

@Suite("Benchmark variants")
struct DecodeVariantTests {
    @Test("variant strings parse and print back", arguments: [("32x2x8", "32x2x8"), ("mma2x8", "mmax2x8"), ("mma", "mmax3x8"), ("64", "64x3x8"), ("mma2x4b", "mmax2x4b"),
                                                               ("mma2x4p0", "mmax2x4p0"), ("mmax2x4p1b", "mmax2x4b"), ("mma2x4p0b", "mmax2x4p0b")])
    func parse(text: String, printed: String) {
        let v = DecodeVariant(text)
        #expect(v != nil)
        #expect(v?.description == printed)
        #expect(v?.mma == text.hasPrefix("mma"))
        if text.hasPrefix("mma") { #expect(v?.tile == 64) }
        #expect(v?.prefetch == (text.hasPrefix("mma") && !text.contains("p0")))
        // What prints parses back to the same variant.
        #expect(v.flatMap { DecodeVariant($0.description) }?.description == printed)
    }

    @Test("malformed variants are refused", arguments: ["", "x", "32xx2", "a2", "1x2x3x4", "mma2x4p", "mma2x4p2", "32x2x8p1", "32x2x8p0", "mmax"])
    func refuse(text: String) {
        #expect(DecodeVariant(text) == nil)
    }
}
