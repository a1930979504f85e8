#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Environment lookups shared by the loaders.
enum Environment {
    /// Value of the environment variable `name`, if set and non-empty.
    static func value(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        let s = String(cString: p)
        return s.isEmpty ? nil : s
    }

    /// CUDA toolkit roots to search: `CUDA_HOME`, `CUDA_PATH`, then `/usr/local/cuda`.
    static var cudaRoots: [String] {
        [value("CUDA_HOME"), value("CUDA_PATH"), "/usr/local/cuda"].compactMap { $0 }
    }
}
