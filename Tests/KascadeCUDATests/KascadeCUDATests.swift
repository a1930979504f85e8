import Testing
import KascadeCUDA

@Suite("KascadeCUDA module")
struct KascadeCUDAModuleTests {
    @Test("the module links") func links() { #expect(!String(describing: KascadeCUDAInfo.self).isEmpty) }
}
