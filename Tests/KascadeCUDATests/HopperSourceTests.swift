import Testing
@testable import KascadeCUDA

@Suite("Hopper prefill anchor and reuse sources")
struct HopperSourceTests {
    @Test("the anchor and reuse sources carry the dense kernel's helpers and their own kernels",
          arguments: [("anchor_scores_wgmma", KernelSource.prefillAnchorWgmma), ("prefill_wgmma", .prefillAnchorWgmma),
                      ("prefill_reuse_wgmma", .prefillReuseWgmma), ("prefill_wgmma", .prefillReuseWgmma)])
    func sourcesCarryKernels(name: String, source: KernelSource) {
        let text = source.text
        #expect(text.contains("\n\(name)(const __grid_constant__ TensorMaps maps"))
        #expect(text.contains("__device__ __forceinline__ void tma_load("))
        #expect(text.hasPrefix(KernelSource.prefillWgmma.text))
    }

    @Test("every anchor scores layout names a kernel that the anchor source defines", arguments: AnchorScoresLayout.allCases)
    func scoresLayoutKernels(layout: AnchorScoresLayout) {
        let text = KernelSource.prefillAnchorWgmma.text
        let name = layout.kernelName
        #expect(text.contains("\n\(name)(const __grid_constant__ TensorMaps maps") || text.contains("\nANCHOR_SCORES_T(\(name), "))
        #expect(AnchorScoresLayout.allCases.filter { $0.kernelName == name }.count == 1)
        #expect(AnchorScoresLayout.allCases.filter { $0.suffix == layout.suffix }.count == 1)
    }

    @Test("kernel arguments take their natural sizes in a parameter block",
          arguments: [(KernelArg.int32(-3), 4), (.float(1.5), 4), (.int64(7), 8), (.pointer(0x1000), 8), (.null, 8)])
    func argumentSizes(arg: KernelArg, size: Int) {
        #expect(arg.byteSize == size)
    }
}
