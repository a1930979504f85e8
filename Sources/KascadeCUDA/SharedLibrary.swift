#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `dlopen`ed shared library whose symbols are looked up by name.
final class SharedLibrary {
    /// The name the library was asked for (for messages).
    let name: String
    private let handle: UnsafeMutableRawPointer

    /// Opens the first path of `candidates` that loads.
    init(name: String, candidates: [String]) throws(CUDAError) {
        for path in candidates {
            if let h = dlopen(path, RTLD_NOW | RTLD_LOCAL) {
                self.name = name
                self.handle = h
                return
            }
        }
        throw .libraryNotFound(library: name, tried: candidates)
    }

    /// The symbol `symbol` cast to the function type `T`; tries `alternatives` in order.
    func function<T>(_ symbol: String, _ type: T.Type, alternatives: [String] = []) throws(CUDAError) -> T {
        for s in [symbol] + alternatives {
            if let p = dlsym(handle, s) { return unsafeBitCast(p, to: T.self) }
        }
        throw .symbolMissing(library: name, symbol: symbol)
    }
}
