#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A kernel source file embedded in the binary.
public enum KernelSource: String, CaseIterable, Sendable {
    /// Split-KV decode attention (dense, scores, sparse) and the combine step.
    case decodeAttention = "decode_attention.cu"
    /// The same kernels on tensor cores (mma.sync).
    case decodeAttentionMMA = "decode_attention_mma.cu"
    /// Pooled probabilities, radix top-k, random fill.
    case decodeTopK = "decode_topk.cu"

    /// Source text.
    public var text: String {
        switch self {
        case .decodeAttention: return String(decoding: PackageResources.decode_attention_cu, as: UTF8.self)
        case .decodeAttentionMMA: return String(decoding: PackageResources.decode_attention_mma_cu, as: UTF8.self)
        case .decodeTopK: return String(decoding: PackageResources.decode_topk_cu, as: UTF8.self)
        }
    }
}

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

/// 64-bit FNV-1a hash of strings.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf29ce484222325
    mutating func add(_ s: String) {
        for b in s.utf8 { value = (value ^ UInt64(b)) &* 0x100000001b3 }
        value = (value ^ 0xff) &* 0x100000001b3
    }
}

/// Whole-file reads and atomic writes through the C library.
enum DiskFile {
    /// Contents of `path`, or nil.
    static func read(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        fseek(f, 0, SEEK_END)
        let n = ftell(f)
        guard n > 0 else { return nil }
        fseek(f, 0, SEEK_SET)
        var bytes = [UInt8](repeating: 0, count: n)
        let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, n, f) }
        return got == n ? bytes : nil
    }

    /// Writes `bytes` to a temporary file beside `path` and renames it into place; false on failure.
    @discardableResult
    static func writeAtomically(_ path: String, _ bytes: [UInt8]) -> Bool {
        let tmp = "\(path).tmp\(getpid())"
        guard let f = fopen(tmp, "wb") else { return false }
        let put = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, f) }
        let closed = fclose(f) == 0
        guard put == bytes.count, closed else { unlink(tmp); return false }
        return rename(tmp, path) == 0
    }
}
