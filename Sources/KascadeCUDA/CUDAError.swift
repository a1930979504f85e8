/// Errors of the CUDA layer: each carries the failing call, code or value.
public enum CUDAError: Error, Equatable, CustomStringConvertible {
    /// A shared library could not be opened (no driver or no NVRTC on this machine).
    case libraryNotFound(library: String, tried: [String])
    /// A shared library lacks a symbol the runtime needs.
    case symbolMissing(library: String, symbol: String)
    /// A driver call returned an error: the call, the `CUresult` code and its name.
    case driver(call: String, code: Int32, name: String)
    /// The driver found no CUDA device.
    case noDevice
    /// NVRTC rejected a kernel source: the kernel file and the compiler's log.
    case compile(kernel: String, log: String)
    /// An NVRTC call failed.
    case nvrtc(call: String, code: Int32, message: String)
    /// A device allocation failed.
    case outOfMemory(bytes: Int, free: Int)
    /// A shape, dtype or head dim the kernels do not support.
    case unsupported(String)
    /// Arguments that do not agree.
    case badArgument(String)

    public var description: String {
        switch self {
        case .libraryNotFound(let lib, let tried):
            return "CUDA unavailable: cannot load \(lib) (tried \(tried.joined(separator: ", ")))"
        case .symbolMissing(let lib, let sym):
            return "CUDA unavailable: \(lib) has no symbol \(sym)"
        case .driver(let call, let code, let name):
            return "CUDA driver error: \(call) returned \(name) (\(code))"
        case .noDevice:
            return "CUDA unavailable: the driver found no GPU"
        case .compile(let kernel, let log):
            let lines = log.split(separator: "\n").filter { $0.contains("error") }.prefix(3)
            let first = lines.isEmpty ? String(log.prefix(300)) : lines.joined(separator: " | ")
            return "NVRTC failed to compile \(kernel): \(first)"
        case .nvrtc(let call, let code, let message):
            return "NVRTC error: \(call) returned \(message) (\(code))"
        case .outOfMemory(let bytes, let free):
            return "GPU out of memory: asked for \(bytes) bytes, \(free) free"
        case .unsupported(let s):
            return "unsupported on the GPU: \(s)"
        case .badArgument(let s):
            return s
        }
    }
}
