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
        let fixed = (blocks > 1 ? 2 : 1) * 2048 * 4 + 128 * 4
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

    @Test("the automatic launch at the benchmark's shapes is the fastest path measured there (H100, bench/results/fused-select, coalesced-select-flat)",
          arguments: [(8, 8192, 1, 2), (8, 32768, 4, 2), (8, 65536, 8, 2), (8, 131_072, 8, 2), (64, 8192, 1, 2),
                      (64, 32768, 2, 2), (64, 65536, 2, 1), (64, 131_072, 8, 2), (512, 8192, 1, 2), (512, 32768, 2, 2),
                      (512, 65536, 4, 2), (512, 131_072, 8, 2), (200, 56_000, 4, 2), (100, 55_900, 1, 1), (100, 26_000, 1, 2)])
    func automaticOnH100(_ shape: (Int, Int, Int, Int)) {
        let (rows, n, blocks, resident) = shape
        let got = DecodeKernels.automaticLaunch(rows: rows, length: n, multiprocessors: Self.h100.sms,
                                                maxShared: Self.h100.maxShared, sizes: [1, 2, 4, 8])
        #expect(got == DecodeKernels.FusedKey(blocks: blocks, resident: resident))
    }

    @Test("without pairs a launch of one wave keeps one block per multiprocessor; several waves still pair",
          arguments: [(8, 8192, 1, 1), (8, 32768, 4, 1), (64, 32768, 2, 1), (64, 131_072, 8, 2), (512, 8192, 1, 2), (512, 32768, 2, 2)])
    func unpairedInOneWave(_ shape: (Int, Int, Int, Int)) {
        let (rows, n, blocks, resident) = shape
        let got = DecodeKernels.automaticLaunch(rows: rows, length: n, multiprocessors: Self.h100.sms,
                                                maxShared: Self.h100.maxShared, sizes: [1, 2, 4, 8], pairs: false)
        #expect(got == DecodeKernels.FusedKey(blocks: blocks, resident: resident))
        let paired = DecodeKernels.automaticLaunch(rows: rows, length: n, multiprocessors: Self.h100.sms,
                                                   maxShared: Self.h100.maxShared, sizes: [1, 2, 4, 8])
        #expect(got?.blocks == paired?.blocks)
    }

    @Test("rows too long for eight blocks, or for one block without clusters, go to the split path",
          arguments: [(8, 500_000, [1, 2, 4, 8]), (8, 60_000, [1]), (1, 1 << 20, [1, 2, 4, 8])])
    func splitWhenTooLong(_ shape: (Int, Int, [Int])) {
        let (rows, n, sizes) = shape
        #expect(DecodeKernels.automaticLaunch(rows: rows, length: n, multiprocessors: Self.h100.sms,
                                              maxShared: Self.h100.maxShared, sizes: sizes) == nil)
    }

    @Test("on random shapes the automatic launch fits and follows its rule", arguments: [1, 2, 3])
    func automaticFollowsRule(seed: Int) {
        var rng = SplitMix(seed: UInt64(seed))
        let sizes = [1, 2, 4, 8]
        for _ in 0..<500 {
            let rows = 1 + Int(rng.next() % 600), n = 1 + Int(rng.next() % 600_000)
            let sms = 1 + Int(rng.next() % 200), maxShared = 16_384 + Int(rng.next() % 220_000)
            let fits = sizes.filter { DecodeKernels.fusedLayout(length: n, blocks: $0, maxShared: maxShared) != nil }
            let pairs = sizes.filter { DecodeKernels.fusedLayout(length: n, blocks: $0, resident: 2, maxShared: maxShared) != nil }
            let got = DecodeKernels.automaticLaunch(rows: rows, length: n, multiprocessors: sms, maxShared: maxShared, sizes: sizes)
            guard let key = got else { #expect(fits.isEmpty); continue }
            #expect(DecodeKernels.fusedLayout(length: n, blocks: key.blocks, resident: key.resident, maxShared: maxShared) != nil)
            if rows * fits.first! > sms {
                let pair = pairs.first
                #expect(key == DecodeKernels.FusedKey(blocks: pair ?? fits.first!, resident: pair == nil ? 1 : 2))
                continue
            }
            let spreads = { (c: Int) in rows * c <= sms && (n + c - 1) / c >= DecodeKernels.minimumSpreadSlice }
            #expect(fits.contains(key.blocks))
            #expect(key.blocks == fits.first! || spreads(key.blocks))
            #expect(!fits.contains { $0 > key.blocks && spreads($0) })
            #expect((key.resident == 2) == pairs.contains(key.blocks))
        }
    }

    @Test("two blocks per multiprocessor fit in half the shared memory, less the reserve each block holds",
          arguments: [(8192, 1, true), (26_750, 1, true), (26_800, 1, false), (32768, 2, true), (65536, 2, false)])
    func pairedLayout(_ item: (Int, Int, Bool)) {
        let (n, blocks, fits) = item
        let layout = DecodeKernels.fusedLayout(length: n, blocks: blocks, resident: 2, maxShared: Self.h100.maxShared)
        #expect((layout != nil) == fits)
        if let layout { #expect(2 * (layout.sharedBytes + 1024) <= 233_472) }
    }

    @Test("the fused kernels are extern C symbols of the embedded top-k source",
          arguments: ["decode_pool_select", "decode_pool_select_x2", "decode_pool_select_x4", "decode_pool_select_x8",
                      "decode_pool_select_r2", "decode_pool_select_r2_x2", "decode_pool_select_r2_x4", "decode_pool_select_r2_x8"])
    func fusedKernelsEmbedded(name: String) {
        #expect(KernelSource.decodeTopK.text.contains("(\(name), "))
    }

    @Test("paths print as the check and bench name them", arguments: [(DecodeKernels.SelectPath.automatic, "automatic"),
                                                                     (.split, "split"), (.fused(blocks: 4), "fused4"),
                                                                     (.fused(blocks: 2, resident: 2), "fused2r2")])
    func pathNames(_ item: (DecodeKernels.SelectPath, String)) {
        #expect(item.0.description == item.1)
    }
}
