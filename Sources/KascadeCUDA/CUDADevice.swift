/// One CUDA device with its primary context, current on the calling thread.
public final class CUDADevice {
    let driver: CUDADriver
    let context: CUhandle?
    /// Device ordinal.
    public let ordinal: Int
    /// Marketing name, e.g. `NVIDIA H100 80GB HBM3`.
    public let name: String
    /// Compute capability `(major, minor)`.
    public let computeCapability: (major: Int, minor: Int)
    /// Streaming multiprocessors.
    public let multiprocessors: Int
    /// L2 cache bytes.
    public let l2Bytes: Int
    /// Largest dynamic shared memory a block may opt into, bytes.
    public let maxSharedPerBlock: Int

    /// Opens device `ordinal`; throws a one-line `CUDAError` when there is no driver or no GPU.
    public init(ordinal: Int = 0) throws(CUDAError) {
        let d = try CUDADriver.shared()
        driver = d
        var count: Int32 = 0
        try d.check(d.cuDeviceGetCount(&count), "cuDeviceGetCount")
        guard count > 0 else { throw .noDevice }
        guard ordinal >= 0, ordinal < Int(count) else { throw .badArgument("GPU \(ordinal) does not exist (\(count) found)") }
        var dev: Int32 = 0
        try d.check(d.cuDeviceGet(&dev, Int32(ordinal)), "cuDeviceGet")
        var ctx: CUhandle?
        try d.check(d.cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain")
        try d.check(d.cuCtxSetCurrent(ctx), "cuCtxSetCurrent")
        context = ctx
        self.ordinal = ordinal
        var buf = [CChar](repeating: 0, count: 256)
        try d.check(d.cuDeviceGetName(&buf, 255, dev), "cuDeviceGetName")
        name = String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        func attr(_ a: Int32) throws(CUDAError) -> Int {
            var v: Int32 = 0
            try d.check(d.cuDeviceGetAttribute(&v, a, dev), "cuDeviceGetAttribute(\(a))")
            return Int(v)
        }
        computeCapability = (try attr(75), try attr(76))
        multiprocessors = try attr(16)
        l2Bytes = try attr(38)
        maxSharedPerBlock = try attr(97)
    }

    /// Architecture NVRTC compiles for: `sm_90a` on Hopper, else `sm_XY`.
    public var architecture: String {
        let (ma, mi) = computeCapability
        return ma == 9 && mi == 0 ? "sm_90a" : "sm_\(ma)\(mi)"
    }

    /// Makes this device's context current on the calling thread.
    public func makeCurrent() throws(CUDAError) {
        try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
    }

    /// Waits for all work on the device.
    public func synchronize() throws(CUDAError) {
        try driver.check(driver.cuCtxSynchronize(), "cuCtxSynchronize")
    }

    /// Free and total device memory, bytes.
    public func memoryInfo() throws(CUDAError) -> (free: Int, total: Int) {
        var f = 0, t = 0
        try driver.check(driver.cuMemGetInfo(&f, &t), "cuMemGetInfo")
        return (f, t)
    }

    /// Allocates `bytes` of device memory.
    public func allocate(_ bytes: Int) throws(CUDAError) -> DeviceBuffer {
        try DeviceBuffer(device: self, bytes: bytes)
    }
}
