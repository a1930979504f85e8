import Testing
import KascadeModel

@Suite("KascadeModel module")
struct KascadeModelModuleTests {
    @Test("the module links") func links() { #expect(!String(describing: KascadeModelInfo.self).isEmpty) }
}
