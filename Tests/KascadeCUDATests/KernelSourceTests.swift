import Foundation
import Testing
@testable import KascadeCUDA

@Suite("Kernel sources")
struct KernelSourceTests {
    static func count(_ pattern: String, in text: String) -> Int {
        let re = try! NSRegularExpression(pattern: pattern)
        return re.numberOfMatches(in: text, range: NSRange(text.startIndex..., in: text))
    }

    /// Names of the device functions `common.cuh` defines.
    static func helperNames() -> [String] {
        let text = KernelSource.commonHelpers
        let re = try! NSRegularExpression(pattern: #"__device__ __forceinline__ [\w:]+ (\w+)\("#)
        return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range(at: 1), in: text)!])
        }
    }

    @Test("each composed source defines every shared helper, macro and the element type at most once",
          arguments: KernelSource.allCases)
    func helpersDefinedOnce(source: KernelSource) {
        let names = Self.helperNames()
        #expect(names.count == 15, "common.cuh helpers: \(names)")
        let text = source.text
        let usesHelpers = text.hasPrefix(KernelSource.commonHelpers)
        for name in names {
            let n = Self.count(#"__device__ __forceinline__ [\w:]+ "# + name + #"\("#, in: text)
            #expect(usesHelpers ? n == 1 : n <= 1, "\(source.rawValue) defines \(name) \(n) times")
        }
        for token in [#"#define NEG_INF "#, #"#define POS_INF "#, #"typedef __half kv_t;"#] {
            #expect(text.components(separatedBy: token).count - 1 <= 1, "\(source.rawValue) repeats \(token)")
        }
    }
}
