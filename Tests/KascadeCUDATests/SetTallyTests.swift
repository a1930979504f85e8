import Testing
@testable import KascadeCUDA

@Suite("The GPU check's set comparison")
struct SetTallyTests {
    /// Candidates 0-3 with weights 4, 3, 2, 1 (mass 0.4, 0.3, 0.2, 0.1); top-p 0.7 keeps 0 and 1.
    static let cpu: PeerReference.TwilightHead = ([0, 1, 2, 3], [4, 3, 2, 1], 3, [0, 1])

    @Test("a Twilight key kept where the heavier mass equals top-p is a near-tie")
    func massTieForgiven() {
        var tally = SetTally()
        tally.kept(gpu: [0, 1, 2], cpu: Self.cpu, topP: 0.7)
        #expect(tally.hard == 0)
    }

    @Test("a Twilight key kept far from the threshold and from top-p is a mismatch")
    func farKeyCounted() {
        var tally = SetTally()
        tally.kept(gpu: [0, 1, 2, 3], cpu: Self.cpu, topP: 0.7)
        #expect(tally.hard == 1)
        let row = tally.row("twilight", "shape", 0, k: 4, note: "")
        #expect(!row.passed)
        #expect(row.note.contains("position 3 (GPU only) weight 1.0, theta 3.0"))
    }

    @Test("a kept key that is not a candidate is a mismatch")
    func nonCandidateCounted() {
        var tally = SetTally()
        tally.kept(gpu: [0, 1, 40], cpu: Self.cpu, topP: 0.7)
        #expect(tally.hard == 1)
        #expect(tally.row("twilight", "shape", 0, k: 3, note: "").note.contains("position 40 (GPU only) not a candidate"))
    }

    @Test("Quest pages: the same set, a near-tie page and a far page")
    func pagesSameOrNot() {
        // Pages 0-4 (4 is the current one) scored 5, 4, 3, 2.999995, 1: the CPU keeps 0, 1, 2 and 4.
        let scores: [Float] = [5, 4, 3, 2.999995, 1]
        var tally = SetTally()
        let same = tally.pages(gpu: [4, 2, 1, 0], cpu: [0, 1, 2, 4], scores: scores, pages: 5)
        let nearTie = tally.pages(gpu: [0, 1, 3, 4], cpu: [0, 1, 2, 4], scores: scores, pages: 5)
        #expect(same)
        #expect(!nearTie)
        #expect(tally.hard == 0)
        var far = SetTally()
        let farSame = far.pages(gpu: [0, 1, 4, 3], cpu: [0, 1, 2, 4], scores: [5, 4, 3, 1, 1], pages: 5)
        #expect(!farSame)
        #expect(far.hard == 1)
    }
}
