/// A CUDA stream; work on it runs in order.
public final class CUDAStream {
    let device: CUDADevice
    let handle: CUhandle?
    /// Kernels of modules that allow it (``CUDAModule/overlapsLaunches``) are launched with programmatic
    /// stream serialization: their blocks may start while the kernel before them on the stream finishes,
    /// and wait in `grid_dependency_sync()` for its memory. On by default on sm_90 and later when the
    /// driver has `cuLaunchKernelEx`; `KASCADE_LAUNCH_OVERLAP=0` turns it off.
    public var overlapsLaunches: Bool

    /// Creates a non-blocking stream on `device`.
    public init(device: CUDADevice) throws(CUDAError) {
        self.device = device
        overlapsLaunches = device.computeCapability.major >= 9 && device.driver.cuLaunchKernelEx != nil
            && Environment.value("KASCADE_LAUNCH_OVERLAP") != "0"
        var s: CUhandle?
        try device.driver.check(device.driver.cuStreamCreate(&s, 1), "cuStreamCreate")
        handle = s
    }

    deinit { _ = device.driver.cuStreamDestroy(handle) }

    /// Waits until the stream's work is done.
    public func synchronize() throws(CUDAError) {
        try device.driver.check(device.driver.cuStreamSynchronize(handle), "cuStreamSynchronize")
    }

    /// Enqueues setting `bytes` bytes at `address` to `value`.
    public func memset(_ address: UInt64, value: UInt8, bytes: Int) throws(CUDAError) {
        try device.driver.check(device.driver.cuMemsetD8Async(address, value, bytes, handle), "cuMemsetD8Async")
    }

    /// Enqueues a device-to-device copy of `bytes`.
    public func copy(from src: UInt64, to dst: UInt64, bytes: Int) throws(CUDAError) {
        try device.driver.check(device.driver.cuMemcpyDtoDAsync(dst, src, bytes, handle), "cuMemcpyDtoDAsync")
    }
}
