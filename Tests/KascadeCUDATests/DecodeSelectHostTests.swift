import Testing
@testable import KascadeCUDA

@Suite("Decode selection paths without a GPU")
struct DecodeSelectHostTests {
    /// H100: opt-in shared memory per block, multiprocessors.
    static let h100 = (maxShared: 232_448, sms: 132)

    @Test("a fused layout covers the row in 16-byte slices and fits the shared memory it asks for",
          arguments: [(1, 1, 232_448), (100, 8, 232_448), (333, 2, 232_448), (32768, 1, 232_448), (65536, 1, 232_448),
                      (65536, 2, 232_448), (131_072, 4, 232_448), (131_072, 2, 232_448), (20011, 4, 49152), (56_000, 1, 232_448)])
    func layoutCoversRow(_ shape: (Int, Int, Int)) {
        let (n, blocks, maxShared) = shape
        let fixed = (blocks > 1 ? 2 : 1) * 2048 * 4 + 64 * 4
        let needed = ((n + blocks - 1) / blocks + 3) / 4 * 4
        guard let layout = DecodeKernels.fusedLayout(length: n, blocks: blocks, maxShared: maxShared) else {
            #expect(needed * 4 + fixed > maxShared)
            return
        }
        #expect(layout.slice % 4 == 0)
        #expect(layout.slice * blocks >= n)
        #expect(layout.slice - 4 < (n + blocks - 1) / blocks)          // no wider than a row's share, rounded up to 4
        #expect(layout.sharedBytes == layout.slice * 4 + fixed)
        #expect(layout.sharedBytes <= maxShared)
    }

    @Test("the automatic path takes the fewest blocks per row that hold it, more while one block per SM remains",
          arguments: [(8, 8192, 8), (8, 32768, 8), (8, 131_072, 8), (64, 8192, 2), (64, 32768, 2), (64, 131_072, 4),
                      (512, 8192, 1), (512, 32768, 1), (512, 65536, 2), (512, 131_072, 4), (200, 56_000, 1), (200, 56_100, 2)])
    func automaticOnH100(_ shape: (Int, Int, Int)) {
        let (rows, n, want) = shape
        let got = DecodeKernels.automaticBlocks(rows: rows, length: n, multiprocessors: Self.h100.sms,
                                                maxShared: Self.h100.maxShared, sizes: [1, 2, 4, 8])
        #expect(got == want)
    }

    @Test("rows too long for eight blocks, or for one block without clusters, go to the split path",
          arguments: [(8, 500_000, [1, 2, 4, 8]), (8, 60_000, [1]), (1, 1 << 20, [1, 2, 4, 8])])
    func splitWhenTooLong(_ shape: (Int, Int, [Int])) {
        let (rows, n, sizes) = shape
        #expect(DecodeKernels.automaticBlocks(rows: rows, length: n, multiprocessors: Self.h100.sms,
                                              maxShared: Self.h100.maxShared, sizes: sizes) == nil)
    }

    @Test("on random shapes the automatic choice fits, and no fewer blocks fit nor more fit one per SM", arguments: [1, 2, 3])
    func automaticIsMinimalOrSpread(seed: Int) {
        var rng = SplitMix(seed: UInt64(seed))
        let sizes = [1, 2, 4, 8]
        for _ in 0..<500 {
            let rows = 1 + Int(rng.next() % 600), n = 1 + Int(rng.next() % 600_000)
            let sms = 1 + Int(rng.next() % 200), maxShared = 16_384 + Int(rng.next() % 220_000)
            let fits = sizes.filter { DecodeKernels.fusedLayout(length: n, blocks: $0, maxShared: maxShared) != nil }
            let got = DecodeKernels.automaticBlocks(rows: rows, length: n, multiprocessors: sms, maxShared: maxShared, sizes: sizes)
            guard let c = got else { #expect(fits.isEmpty); continue }
            #expect(fits.contains(c))
            #expect(c == fits.first! || rows * c <= sms)
            #expect(!fits.contains { $0 > c && rows * $0 <= sms })
        }
    }

    @Test("the fused kernels are extern C symbols of the embedded top-k source",
          arguments: ["decode_pool_select", "decode_pool_select_x2", "decode_pool_select_x4", "decode_pool_select_x8"])
    func fusedKernelsEmbedded(name: String) {
        #expect(KernelSource.decodeTopK.text.contains(" \(name)(DECODE_POOL_SELECT_ARGS)"))
    }

    @Test("paths print as the check and bench name them", arguments: [(DecodeKernels.SelectPath.automatic, "automatic"),
                                                                     (.split, "split"), (.fused(blocks: 4), "fused4")])
    func pathNames(_ item: (DecodeKernels.SelectPath, String)) {
        #expect(item.0.description == item.1)
    }
}
