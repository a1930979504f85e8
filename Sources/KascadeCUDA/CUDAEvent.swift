/// A CUDA event for timing work on a stream.
public final class CUDAEvent {
    let device: CUDADevice
    let handle: CUhandle?

    /// Creates a timing event.
    public init(device: CUDADevice) throws(CUDAError) {
        self.device = device
        var e: CUhandle?
        try device.driver.check(device.driver.cuEventCreate(&e, 0), "cuEventCreate")
        handle = e
    }

    deinit { _ = device.driver.cuEventDestroy(handle) }

    /// Records the event on `stream`.
    public func record(on stream: CUDAStream) throws(CUDAError) {
        try device.driver.check(device.driver.cuEventRecord(handle, stream.handle), "cuEventRecord")
    }

    /// Milliseconds from `start` to this event (both recorded; waits for this one).
    public func milliseconds(since start: CUDAEvent) throws(CUDAError) -> Float {
        try device.driver.check(device.driver.cuEventSynchronize(handle), "cuEventSynchronize")
        var ms: Float = 0
        try device.driver.check(device.driver.cuEventElapsedTime(&ms, start.handle, handle), "cuEventElapsedTime")
        return ms
    }
}
