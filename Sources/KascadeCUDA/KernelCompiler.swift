#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Compiles embedded kernels with NVRTC for one GPU architecture, caching cubins on disk by a hash
/// of the source, the options and the NVRTC version, in `$KASCADE_CACHE/cubin` (the project's cache
/// root), else `$XDG_CACHE_HOME/kascade/cubin`, else `~/.cache/kascade/cubin`.
public final class KernelCompiler {
    /// Target architecture, e.g. `sm_90a`.
    public let architecture: String
    /// Whether to ask ptxas for its resource report (registers, spills) in the log.
    public var verbose = false
    /// Compiler logs of the compilations done, by kernel key.
    public private(set) var logs: [(key: String, log: String)] = []

    /// Loads NVRTC; throws `CUDAError.libraryNotFound` without it.
    public init(architecture: String) throws(CUDAError) {
        _ = try NVRTC.shared()
        self.architecture = architecture
    }

    /// Include directories for `<cuda_bf16.h>`: the toolkit roots' `include` folders that exist.
    static var includePaths: [String] {
        Environment.cudaRoots.map { "\($0)/include" }.filter { access($0 + "/cuda_bf16.h", R_OK) == 0 }
    }

    /// A cubin for `source` with the `-D` `defines`; from the disk cache when present.
    public func cubin(_ source: KernelSource, defines: [String: String]) throws(CUDAError) -> [UInt8] {
        let nvrtc = try NVRTC.shared()
        let text = source.text
        var options = ["--gpu-architecture=\(architecture)", "-std=c++17", "-default-device", "-lineinfo"]
        options += KernelCompiler.includePaths.map { "--include-path=\($0)" }
        options += defines.sorted { $0.key < $1.key }.map { "-D\($0.key)=\($0.value)" }
        if verbose { options.append("--ptxas-options=-v") }
        let key = "\(source.rawValue)[\(defines.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))]"
        var hash = FNV1a()
        hash.add(text); hash.add(options.joined(separator: " ")); hash.add(nvrtc.version)
        let path = KernelCompiler.cacheDirectory.map { "\($0)/\(String(hash.value, radix: 16)).cubin" }
        if !verbose, let path, let data = DiskFile.read(path) { return data }
        let (bin, log) = try nvrtc.compileToCubin(source: text, name: source.rawValue, options: options)
        logs.append((key, log))
        if let path { DiskFile.writeAtomically(path, bin) }
        return bin
    }

    /// Cache folder, created on demand; nil when it cannot be made.
    static let cacheDirectory: String? = {
        let dir: String
        if let d = Environment.value("KASCADE_CACHE") { dir = d + "/cubin" }
        else if let x = Environment.value("XDG_CACHE_HOME") { dir = x + "/kascade/cubin" }
        else if let h = Environment.value("HOME") { dir = h + "/.cache/kascade/cubin" }
        else { return nil }
        var partial = ""
        for part in dir.split(separator: "/") {
            partial += "/" + part
            mkdir(partial, 0o755)
        }
        return access(dir, W_OK) == 0 ? dir : nil
    }()
}
