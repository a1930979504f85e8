import Testing
import KascadeEval

@Suite("KascadeEval module")
struct KascadeEvalModuleTests {
    @Test("the module links") func links() { #expect(!String(describing: KascadeEvalInfo.self).isEmpty) }
}
