/// A CUDA stream; work on it runs in order.
public final class CUDAStream {
    let device: CUDADevice
    let handle: CUhandle?

    /// Creates a non-blocking stream on `device`.
    public init(device: CUDADevice) throws(CUDAError) {
        self.device = device
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
