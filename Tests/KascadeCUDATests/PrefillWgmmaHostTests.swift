import Testing
@testable import KascadeCUDA

@Suite("wgmma prefill launch geometry without a GPU")
struct PrefillWgmmaHostTests {
    @Test("tensor maps cover every valid row, with 16-byte strides and 128-byte boxes",
          arguments: [(1, 32, 8, 128, 32768, 32768, 32768), (2, 4, 2, 64, 77, 211, 300), (3, 6, 3, 128, 1, 1, 1)])
    func tensorMaps(b: Int, h: Int, g: Int, d: Int, t: Int, n: Int, cap: Int) {
        let maps = PrefillKernels.wgmmaTensorMaps(q: 0x1000, k: 0x2000, v: 0x3000, batch: b, queryHeads: h, kvHeads: g, headDim: d,
                                                  queryCount: t, length: n, capacity: cap)
        #expect(maps.count == 3)
        #expect(maps[0].dims == [UInt64(d), UInt64(t), UInt64(b * h)])
        #expect(maps[1].dims == [UInt64(d), UInt64(n), UInt64(b * g)])
        #expect(maps[2].dims == maps[1].dims)
        #expect(maps[0].strides == [UInt64(2 * d), UInt64(2 * d * t)])
        #expect(maps[1].strides == [UInt64(2 * d), UInt64(2 * d * cap)])
        #expect(maps.map(\.address) == [0x1000, 0x2000, 0x3000])
        for m in maps {
            #expect(m.strides.allSatisfy { $0 % 16 == 0 })
            #expect(m.box[0] * 2 == 128)                // one 128-byte swizzle span per box row
            #expect(m.box.allSatisfy { $0 >= 1 && $0 <= 256 })
        }
    }

    @Test("shared memory fits a Hopper block (227 KB) for both head dims", arguments: [(64, 3), (128, 2), (128, 3)])
    func sharedFits(d: Int, stages: Int) {
        let bytes = PrefillKernels.wgmmaSharedBytes(headDim: d, stages: stages)
        #expect(bytes <= 232_448)
        #expect(bytes >= (d / 64) * (128 + 2 * stages * 128) * 128)
    }

    @Test("the check grid covers both kernel families, both head dims and chunks")
    func gridCoversWgmma() {
        for small in [true, false] {
            let w = PrefillCheck.grid(small: small).filter { $0.engine == .wgmma }
            #expect(Set(w.map(\.headDim)) == [64, 128])
            #expect(Set(w.map(\.dtype)).count == 2)
            #expect(w.contains { $0.queryCount < $0.length })
            #expect(PrefillCheck.grid(small: small).contains { $0.engine == .mmaSync })
        }
    }
}
