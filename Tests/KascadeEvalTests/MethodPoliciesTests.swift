import Testing
import KascadeCore
import KascadeEval

@Suite("Method policies")
struct MethodPoliciesTests {
    static let schedule = try! KascadeSchedule(layers: 10, kvHeads: 2, anchors: [0, 3, 7],
                                               headMaps: Array(repeating: [0, 1], count: 4) + [[1, 1]] + Array(repeating: [0, 1], count: 5),
                                               modelID: "test", devSetID: "test")

    @Test("every method builds a policy of its name at the spec's budget", arguments: MethodKind.allCases)
    func builds(kind: MethodKind) throws {
        let p = try MethodPolicies(schedule: Self.schedule).make(try MethodSpec(kind, budget: 0.2))
        let expected = kind.rawValue.hasPrefix("kascade") ? "kascade" : kind.rawValue
        #expect(p.name == expected)
        if let k = p as? KascadeAttention {
            #expect(k.schedule.fraction == 0.2)
            switch kind {
            case .kascadeUniform:
                #expect(k.schedule.anchors == [0, 4, 8])
                #expect(k.schedule.headMaps.allSatisfy { $0 == [0, 1] })
            case .kascadeExact:
                #expect(k.schedule.anchors == Array(0..<10))
            case .kascadePooled: #expect(k.variant == .pooled && k.schedule.anchors == [0, 3, 7])
            case .kascadeNoRemap: #expect(k.variant == .noRemap)
            default: #expect(k.variant == .headAware && k.schedule.headMaps[4] == [1, 1])
            }
        }
        if let k = p as? KascadeAttention, kind.usesSchedule { #expect(k.schedule.anchors == [0, 3, 7]) }
        if let q = p as? QuestAttention { #expect(q.budget.fraction == 0.2) }
    }

    @Test("Kascade without a schedule is a clear error")
    func needsSchedule() {
        #expect(throws: EvalError.self) { _ = try MethodPolicies(schedule: nil).make(try MethodSpec(.kascade, budget: 0.1)) }
    }
}
