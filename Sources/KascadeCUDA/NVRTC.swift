#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// NVRTC, the run-time CUDA C++ compiler, loaded through `dlopen`; compiles sources to cubins.
final class NVRTC {
    typealias Program = OpaquePointer
    private let library: SharedLibrary
    private let create: @convention(c) (UnsafeMutablePointer<Program?>, UnsafePointer<CChar>, UnsafePointer<CChar>?, Int32,
                                        UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    private let compile: @convention(c) (Program?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    private let logSize: @convention(c) (Program?, UnsafeMutablePointer<Int>) -> Int32
    private let getLog: @convention(c) (Program?, UnsafeMutablePointer<CChar>) -> Int32
    private let cubinSize: @convention(c) (Program?, UnsafeMutablePointer<Int>) -> Int32
    private let getCubin: @convention(c) (Program?, UnsafeMutablePointer<CChar>) -> Int32
    private let destroy: @convention(c) (UnsafeMutablePointer<Program?>) -> Int32
    private let errorString: @convention(c) (Int32) -> UnsafePointer<CChar>?
    private let versionFn: @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Int32

    private init() throws(CUDAError) {
        var paths: [String] = []
        if let p = Environment.value("KASCADE_NVRTC") { paths.append(p) }
        for root in Environment.cudaRoots {
            paths += ["\(root)/lib64/libnvrtc.so", "\(root)/lib/libnvrtc.so", "\(root)/lib64/libnvrtc.so.13",
                      "\(root)/lib/libnvrtc.so.13", "\(root)/lib64/libnvrtc.so.12", "\(root)/lib/libnvrtc.so.12"]
        }
        paths += ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12"]
        let l = try SharedLibrary(name: "libnvrtc.so", candidates: paths)
        library = l
        create = try l.function("nvrtcCreateProgram", type(of: create))
        compile = try l.function("nvrtcCompileProgram", type(of: compile))
        logSize = try l.function("nvrtcGetProgramLogSize", type(of: logSize))
        getLog = try l.function("nvrtcGetProgramLog", type(of: getLog))
        cubinSize = try l.function("nvrtcGetCUBINSize", type(of: cubinSize))
        getCubin = try l.function("nvrtcGetCUBIN", type(of: getCubin))
        destroy = try l.function("nvrtcDestroyProgram", type(of: destroy))
        errorString = try l.function("nvrtcGetErrorString", type(of: errorString))
        versionFn = try l.function("nvrtcVersion", type(of: versionFn))
    }

    private static let loaded: Result<NVRTC, CUDAError> = {
        do { return .success(try NVRTC()) } catch let e as CUDAError { return .failure(e) } catch { return .failure(.badArgument("\(error)")) }
    }()

    /// The process's NVRTC, loaded on first use.
    static func shared() throws(CUDAError) -> NVRTC {
        switch loaded {
        case .success(let n): return n
        case .failure(let e): throw e
        }
    }

    /// NVRTC version as `major.minor`.
    var version: String {
        var a: Int32 = 0, b: Int32 = 0
        _ = versionFn(&a, &b)
        return "\(a).\(b)"
    }

    private func check(_ code: Int32, _ call: String) throws(CUDAError) {
        guard code != 0 else { return }
        let msg = errorString(code).map { String(cString: $0) } ?? "NVRTC_ERROR_\(code)"
        throw .nvrtc(call: call, code: code, message: msg)
    }

    /// Compiles `source` (named `name` in messages) with `options`; returns the cubin and the log.
    func compileToCubin(source: String, name: String, options: [String]) throws(CUDAError) -> (cubin: [UInt8], log: String) {
        var prog: Program?
        try check(create(&prog, source, name, 0, nil, nil), "nvrtcCreateProgram")
        defer { _ = destroy(&prog) }
        let cOpts = options.map { strdup($0) }
        defer { cOpts.forEach { free($0) } }
        let status = cOpts.map { UnsafePointer<CChar>($0) }.withUnsafeBufferPointer { buf in
            compile(prog, Int32(buf.count), buf.baseAddress)
        }
        var n = 0
        _ = logSize(prog, &n)
        var logBytes = [CChar](repeating: 0, count: max(n, 1))
        if n > 1 { _ = getLog(prog, &logBytes) }
        let log = String(decoding: logBytes.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard status == 0 else { throw .compile(kernel: name, log: log) }
        var size = 0
        try check(cubinSize(prog, &size), "nvrtcGetCUBINSize")
        var bytes = [CChar](repeating: 0, count: size)
        try check(getCubin(prog, &bytes), "nvrtcGetCUBIN")
        return (bytes.map { UInt8(bitPattern: $0) }, log)
    }
}
