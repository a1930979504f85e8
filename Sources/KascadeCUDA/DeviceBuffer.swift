/// Device memory, freed when the last reference goes.
public final class DeviceBuffer {
    /// The owning device.
    public let device: CUDADevice
    /// Device address.
    public let address: UInt64
    /// Size in bytes.
    public let byteCount: Int

    init(device: CUDADevice, bytes: Int) throws(CUDAError) {
        guard bytes >= 0 else { throw .badArgument("negative allocation \(bytes)") }
        self.device = device
        self.byteCount = bytes
        var p: UInt64 = 0
        let code = device.driver.cuMemAlloc(&p, max(bytes, 1))
        if code == 2 {
            let free = (try? device.memoryInfo().free) ?? 0
            throw .outOfMemory(bytes: bytes, free: free)
        }
        try device.driver.check(code, "cuMemAlloc(\(bytes))")
        address = p
    }

    deinit { _ = device.driver.cuMemFree(address) }

    /// Device address `offset` bytes in.
    public func address(offset: Int) -> UInt64 { address + UInt64(offset) }

    /// Copies `array` to the start of the buffer; the copy has landed when this returns, for work on
    /// any stream (the kernels run on non-blocking streams, which a plain copy does not order).
    public func upload<T>(_ array: [T]) throws(CUDAError) {
        let n = array.count * MemoryLayout<T>.stride
        guard n <= byteCount else { throw .badArgument("upload of \(n) bytes into a \(byteCount)-byte buffer") }
        let code = array.withUnsafeBytes { device.driver.cuMemcpyHtoD(address, $0.baseAddress!, n) }
        try device.driver.check(code, "cuMemcpyHtoD")
        try device.driver.check(device.driver.cuCtxSynchronize(), "cuCtxSynchronize")
    }

    /// Copies the first `count` elements of type `T` back to the host, after all work queued on any
    /// stream of the context has finished.
    public func download<T>(_ type: T.Type, count: Int) throws(CUDAError) -> [T] where T: Numeric {
        let n = count * MemoryLayout<T>.stride
        guard n <= byteCount else { throw .badArgument("download of \(n) bytes from a \(byteCount)-byte buffer") }
        try device.driver.check(device.driver.cuCtxSynchronize(), "cuCtxSynchronize")
        var out = [T](repeating: 0, count: count)
        let code = out.withUnsafeMutableBytes { device.driver.cuMemcpyDtoH($0.baseAddress!, address, n) }
        try device.driver.check(code, "cuMemcpyDtoH")
        return out
    }

    /// Sets every byte to `value` (0xFF poisons float outputs with NaN), finished when this returns.
    public func fill(byte value: UInt8) throws(CUDAError) {
        try device.driver.check(device.driver.cuMemsetD8(address, value, byteCount), "cuMemsetD8")
        try device.driver.check(device.driver.cuCtxSynchronize(), "cuCtxSynchronize")
    }
}
