import Testing
@testable import KascadeCore

@Suite("AttentionMethod: one factory for every method")
struct AttentionMethodTests {
    static func methods(fraction: Double) throws -> [AttentionMethod] {
        let budget = try Budget(fraction: fraction, kMin: 16)
        // Every layer an anchor, so any layer can run alone (reuse is checked in the Kascade suite).
        let schedule = try KascadeSchedule.evenlySpaced(layers: 6, kvHeads: 3, anchors: 6, fraction: fraction, kMin: 16)
        return [.dense, .kascade(schedule, .headAware), .kascade(schedule, .noRemap), .quest(budget),
                .twilight(budget, baseFraction: 1, topP: 1), .vattention(budget), .streaming(budget)]
    }

    @Test("every method built at the whole budget equals dense attention", arguments: [2, 5])
    func wholeBudgetIsDense(layer: Int) throws {
        let fixture = try PeerFixture(PeerShape(queryHeads: 9, kvHeads: 3, headDim: 16, length: 300), seed: 21)
        for method in try Self.methods(fraction: 1) {
            let policy = try method.makePolicy()
            #expect(policy.name.hasPrefix(method.name), "\(policy.name) for \(method.name)")
            let err = try fixture.compareWithDense(policy, layer: layer, seed: 5)
            #expect(err.decode < 1e-5, "\(method.name) decode \(err.decode)")
        }
    }

    @Test("parameters outside their range are refused with the value in a one-line error",
          arguments: [(AttentionMethod.twilight(try! Budget(), baseFraction: 0, topP: 0.9), "0.0"),
                      (.twilight(try! Budget(), baseFraction: 0.25, topP: 1.5), "1.5"),
                      (.vattention(try! Budget(), epsilon: 1, delta: 0.05, predictor: .topK, seed: 0), "1.0"),
                      (.vattention(try! Budget(), epsilon: 0.05, delta: -0.1, predictor: .questPages, seed: 0), "-0.1")])
    func refusesBadParameters(method: AttentionMethod, value: String) {
        #expect(throws: AttentionError.self) { try method.validate() }
        do {
            _ = try method.makePolicy()
            Issue.record("\(method.name) accepted a bad parameter")
        } catch {
            #expect(error.description.contains(value))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test("in-range parameters pass validation")
    func acceptsGoodParameters() throws {
        for method in try Self.methods(fraction: 0.1) {
            #expect(throws: Never.self) { try method.validate() }
        }
    }
}
