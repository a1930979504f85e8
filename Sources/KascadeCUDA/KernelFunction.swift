/// A kernel of a loaded module.
public final class KernelFunction {
    let module: CUDAModule
    let handle: CUhandle?
    /// Symbol name.
    public let name: String
    private var sharedLimit = 48 * 1024

    /// Whether launches may overlap the end of the kernel before them on a stream that allows it
    /// (``CUDAStream/overlapsLaunches``): the module's ``CUDAModule/overlapsLaunches`` unless turned off
    /// for this kernel.
    public var overlapsLaunch: Bool

    init(module: CUDAModule, handle: CUhandle?, name: String) {
        self.module = module
        self.handle = handle
        self.name = name
        overlapsLaunch = module.overlapsLaunches
    }

    /// Registers per thread the compiler gave this kernel.
    public var registers: Int {
        var v: Int32 = 0
        _ = module.device.driver.cuFuncGetAttribute(&v, 4, handle)
        return Int(v)
    }

    /// Blocks of `threads` threads with `sharedBytes` dynamic shared memory resident per multiprocessor.
    public func occupancy(threads: Int, sharedBytes: Int) throws(CUDAError) -> Int {
        try allowShared(sharedBytes)
        var v: Int32 = 0
        try module.device.driver.check(module.device.driver.cuOccupancyMaxActiveBlocksPerMultiprocessor(&v, handle, Int32(threads), sharedBytes),
                                       "cuOccupancyMaxActiveBlocksPerMultiprocessor(\(name))")
        return Int(v)
    }

    private func allowShared(_ bytes: Int) throws(CUDAError) {
        guard bytes > sharedLimit else { return }
        guard bytes <= module.device.maxSharedPerBlock else {
            throw .unsupported("\(name) needs \(bytes) bytes of shared memory, the device allows \(module.device.maxSharedPerBlock)")
        }
        try module.device.driver.check(module.device.driver.cuFuncSetAttribute(handle, 8, Int32(bytes)), "cuFuncSetAttribute(\(name))")
        sharedLimit = bytes
    }

    /// Enqueues the kernel on `stream`.
    public func launch(grid: (Int, Int, Int), block: Int, sharedBytes: Int = 0, stream: CUDAStream,
                       _ args: [KernelArg]) throws(CUDAError) {
        try allowShared(sharedBytes)
        guard grid.0 > 0, grid.1 > 0, grid.2 > 0 else { return }
        guard grid.1 < 65536, grid.2 < 65536 else { throw .unsupported("\(name): grid \(grid) too large") }
        var storage = args.map { $0.bits }
        let drv = module.device.driver
        let overlap = overlapsLaunch && stream.overlapsLaunches ? drv.cuLaunchKernelEx : nil
        let code: CUresult = storage.withUnsafeMutableBufferPointer { buf in
            var ptrs: [UnsafeMutableRawPointer?] = (0..<buf.count).map { UnsafeMutableRawPointer(buf.baseAddress! + $0) }
            return ptrs.withUnsafeMutableBufferPointer { p in
                guard let launchEx = overlap else {
                    return drv.cuLaunchKernel(handle, UInt32(grid.0), UInt32(grid.1), UInt32(grid.2), UInt32(block), 1, 1,
                                              UInt32(sharedBytes), stream.handle, p.baseAddress, nil)
                }
                return KernelFunction.withOverlapConfig(grid: grid, block: block, sharedBytes: sharedBytes, stream: stream.handle) {
                    launchEx($0, handle, p.baseAddress, nil)
                }
            }
        }
        try drv.check(code, overlap == nil ? "cuLaunchKernel(\(name))" : "cuLaunchKernelEx(\(name))")
    }

    /// Calls `body` with a `CUlaunchConfig` (56 bytes: grid and block sizes, shared bytes, stream,
    /// attribute pointer and count) holding one `CUlaunchAttribute` (72 bytes: id, padding, 64-byte
    /// value): programmatic stream serialization (id 6) allowed.
    static func withOverlapConfig(grid: (Int, Int, Int), block: Int, sharedBytes: Int, stream: CUhandle?,
                                  _ body: (UnsafeRawPointer) -> CUresult) -> CUresult {
        withUnsafeTemporaryAllocation(byteCount: 56 + 72, alignment: 8) { raw in
            let base = raw.baseAddress!
            base.initializeMemory(as: UInt8.self, repeating: 0, count: 56 + 72)
            let attr = base + 56
            attr.storeBytes(of: Int32(6), toByteOffset: 0, as: Int32.self)
            attr.storeBytes(of: Int32(1), toByteOffset: 8, as: Int32.self)
            for (i, v) in [grid.0, grid.1, grid.2, block, 1, 1, sharedBytes].enumerated() {
                base.storeBytes(of: UInt32(v), toByteOffset: 4 * i, as: UInt32.self)
            }
            base.storeBytes(of: UInt(bitPattern: stream.map { Int(bitPattern: UnsafeRawPointer($0)) } ?? 0),
                            toByteOffset: 32, as: UInt.self)
            base.storeBytes(of: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(attr))), toByteOffset: 40, as: UInt.self)
            base.storeBytes(of: UInt32(1), toByteOffset: 48, as: UInt32.self)
            return body(UnsafeRawPointer(base))
        }
    }
}
