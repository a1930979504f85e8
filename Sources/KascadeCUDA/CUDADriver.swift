/// Raw `CUresult` code.
typealias CUresult = Int32
/// Opaque driver handle (context, module, function, stream, event).
typealias CUhandle = OpaquePointer

/// The CUDA driver API (`libcuda.so.1`), loaded once per process through `dlopen`.
final class CUDADriver {
    typealias Fn0 = @convention(c) () -> CUresult
    typealias FnU32 = @convention(c) (UInt32) -> CUresult
    typealias FnH = @convention(c) (CUhandle?) -> CUresult
    typealias FnOutH = @convention(c) (UnsafeMutablePointer<CUhandle?>, UInt32) -> CUresult
    /// `cuTensorMapEncodeTiled(map, dataType, rank, address, dims, strides, box, elementStrides,
    /// interleave, swizzle, l2Promotion, oobFill)`.
    typealias FnTensorMap = @convention(c) (UnsafeMutableRawPointer, Int32, UInt32, UnsafeMutableRawPointer?, UnsafePointer<UInt64>,
                                            UnsafePointer<UInt64>, UnsafePointer<UInt32>, UnsafePointer<UInt32>,
                                            Int32, Int32, Int32, Int32) -> CUresult

    let cuInit: FnU32
    let cuDeviceGetCount: @convention(c) (UnsafeMutablePointer<Int32>) -> CUresult
    let cuDeviceGet: @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> CUresult
    let cuDeviceGetAttribute: @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> CUresult
    let cuDeviceGetName: @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> CUresult
    let cuDevicePrimaryCtxRetain: @convention(c) (UnsafeMutablePointer<CUhandle?>, Int32) -> CUresult
    let cuCtxSetCurrent: FnH
    let cuCtxSynchronize: Fn0
    let cuMemAlloc: @convention(c) (UnsafeMutablePointer<UInt64>, Int) -> CUresult
    let cuMemFree: @convention(c) (UInt64) -> CUresult
    let cuMemGetInfo: @convention(c) (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>) -> CUresult
    let cuMemcpyHtoD: @convention(c) (UInt64, UnsafeRawPointer, Int) -> CUresult
    let cuMemcpyDtoH: @convention(c) (UnsafeMutableRawPointer, UInt64, Int) -> CUresult
    let cuMemcpyDtoDAsync: @convention(c) (UInt64, UInt64, Int, CUhandle?) -> CUresult
    let cuMemsetD8: @convention(c) (UInt64, UInt8, Int) -> CUresult
    let cuMemsetD8Async: @convention(c) (UInt64, UInt8, Int, CUhandle?) -> CUresult
    let cuModuleLoadData: @convention(c) (UnsafeMutablePointer<CUhandle?>, UnsafeRawPointer) -> CUresult
    let cuModuleGetFunction: @convention(c) (UnsafeMutablePointer<CUhandle?>, CUhandle?, UnsafePointer<CChar>) -> CUresult
    let cuFuncSetAttribute: @convention(c) (CUhandle?, Int32, Int32) -> CUresult
    let cuFuncGetAttribute: @convention(c) (UnsafeMutablePointer<Int32>, Int32, CUhandle?) -> CUresult
    let cuOccupancyMaxActiveBlocksPerMultiprocessor: @convention(c) (UnsafeMutablePointer<Int32>, CUhandle?, Int32, Int) -> CUresult
    let cuLaunchKernel: @convention(c) (CUhandle?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, CUhandle?,
                                        UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> CUresult
    let cuStreamCreate: FnOutH
    let cuStreamDestroy: FnH
    let cuStreamSynchronize: FnH
    let cuEventCreate: FnOutH
    let cuEventDestroy: FnH
    let cuEventRecord: @convention(c) (CUhandle?, CUhandle?) -> CUresult
    let cuEventSynchronize: FnH
    let cuEventElapsedTime: @convention(c) (UnsafeMutablePointer<Float>, CUhandle?, CUhandle?) -> CUresult
    let cuGetErrorName: @convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> CUresult
    /// Tensor-map encoder for the tensor memory accelerator (drivers of CUDA 12 and later); nil when absent.
    let cuTensorMapEncodeTiled: FnTensorMap?
    /// `cuLaunchKernelEx(config, function, params, extra)` (drivers of CUDA 12 and later); nil when absent.
    let cuLaunchKernelEx: (@convention(c) (UnsafeRawPointer, CUhandle?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                           UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> CUresult)?

    private let library: SharedLibrary

    private init() throws(CUDAError) {
        var paths = ["libcuda.so.1", "libcuda.so", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib64/libcuda.so.1"]
        if let p = Environment.value("KASCADE_LIBCUDA") { paths.insert(p, at: 0) }
        let l = try SharedLibrary(name: "libcuda.so.1", candidates: paths)
        library = l
        cuInit = try l.function("cuInit", FnU32.self)
        cuDeviceGetCount = try l.function("cuDeviceGetCount", type(of: cuDeviceGetCount))
        cuDeviceGet = try l.function("cuDeviceGet", type(of: cuDeviceGet))
        cuDeviceGetAttribute = try l.function("cuDeviceGetAttribute", type(of: cuDeviceGetAttribute))
        cuDeviceGetName = try l.function("cuDeviceGetName", type(of: cuDeviceGetName))
        cuDevicePrimaryCtxRetain = try l.function("cuDevicePrimaryCtxRetain", type(of: cuDevicePrimaryCtxRetain))
        cuCtxSetCurrent = try l.function("cuCtxSetCurrent", FnH.self)
        cuCtxSynchronize = try l.function("cuCtxSynchronize", Fn0.self)
        cuMemAlloc = try l.function("cuMemAlloc_v2", type(of: cuMemAlloc))
        cuMemFree = try l.function("cuMemFree_v2", type(of: cuMemFree))
        cuMemGetInfo = try l.function("cuMemGetInfo_v2", type(of: cuMemGetInfo))
        cuMemcpyHtoD = try l.function("cuMemcpyHtoD_v2", type(of: cuMemcpyHtoD))
        cuMemcpyDtoH = try l.function("cuMemcpyDtoH_v2", type(of: cuMemcpyDtoH))
        cuMemcpyDtoDAsync = try l.function("cuMemcpyDtoDAsync_v2", type(of: cuMemcpyDtoDAsync))
        cuMemsetD8 = try l.function("cuMemsetD8_v2", type(of: cuMemsetD8))
        cuMemsetD8Async = try l.function("cuMemsetD8Async", type(of: cuMemsetD8Async))
        cuModuleLoadData = try l.function("cuModuleLoadData", type(of: cuModuleLoadData))
        cuModuleGetFunction = try l.function("cuModuleGetFunction", type(of: cuModuleGetFunction))
        cuFuncSetAttribute = try l.function("cuFuncSetAttribute", type(of: cuFuncSetAttribute))
        cuFuncGetAttribute = try l.function("cuFuncGetAttribute", type(of: cuFuncGetAttribute))
        cuOccupancyMaxActiveBlocksPerMultiprocessor = try l.function("cuOccupancyMaxActiveBlocksPerMultiprocessor", type(of: cuOccupancyMaxActiveBlocksPerMultiprocessor))
        cuLaunchKernel = try l.function("cuLaunchKernel", type(of: cuLaunchKernel))
        cuStreamCreate = try l.function("cuStreamCreate", FnOutH.self)
        cuStreamDestroy = try l.function("cuStreamDestroy_v2", FnH.self, alternatives: ["cuStreamDestroy"])
        cuStreamSynchronize = try l.function("cuStreamSynchronize", FnH.self)
        cuEventCreate = try l.function("cuEventCreate", FnOutH.self)
        cuEventDestroy = try l.function("cuEventDestroy_v2", FnH.self, alternatives: ["cuEventDestroy"])
        cuEventRecord = try l.function("cuEventRecord", type(of: cuEventRecord))
        cuEventSynchronize = try l.function("cuEventSynchronize", FnH.self)
        cuEventElapsedTime = try l.function("cuEventElapsedTime_v2", type(of: cuEventElapsedTime), alternatives: ["cuEventElapsedTime"])
        cuGetErrorName = try l.function("cuGetErrorName", type(of: cuGetErrorName))
        cuTensorMapEncodeTiled = try? l.function("cuTensorMapEncodeTiled", FnTensorMap.self)
        cuLaunchKernelEx = try? l.function("cuLaunchKernelEx", (@convention(c) (UnsafeRawPointer, CUhandle?,
            UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> CUresult).self)
        try check(cuInit(0), "cuInit")
    }

    private static let loaded: Result<CUDADriver, CUDAError> = {
        do { return .success(try CUDADriver()) } catch let e as CUDAError { return .failure(e) } catch { return .failure(.badArgument("\(error)")) }
    }()

    /// The process's driver, loaded and initialised on first use.
    static func shared() throws(CUDAError) -> CUDADriver {
        switch loaded {
        case .success(let d): return d
        case .failure(let e): throw e
        }
    }

    /// Throws `CUDAError.driver` naming `call` unless `code` is `CUDA_SUCCESS`.
    func check(_ code: CUresult, _ call: @autoclosure () -> String) throws(CUDAError) {
        guard code != 0 else { return }
        var namePtr: UnsafePointer<CChar>?
        let name = cuGetErrorName(code, &namePtr) == 0 && namePtr != nil ? String(cString: namePtr!) : "CUDA_ERROR_\(code)"
        throw .driver(call: call(), code: code, name: name)
    }
}
