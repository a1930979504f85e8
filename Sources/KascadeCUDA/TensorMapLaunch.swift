/// Launches a kernel whose first parameter is a struct of 128-byte TMA tensor maps passed by value
/// (`__grid_constant__`, 64-byte aligned), followed by ordinary arguments.
enum TensorMapLaunch {
    /// Encodes `maps` (16-bit elements, 128-byte swizzle, zero fill; `nil` leaves a zeroed, unused
    /// slot) and launches `fn` with them, then `args` at their natural alignment.
    static func launch(_ fn: KernelFunction, maps: [PrefillKernels.TensorMapShape?], args: [KernelArg],
                       grid: (Int, Int, Int), block: Int, sharedBytes: Int, stream: CUDAStream) throws(CUDAError) {
        guard grid.0 > 0, grid.1 > 0, grid.2 > 0 else { return }
        guard grid.1 < 65536, grid.2 < 65536 else { throw .unsupported("\(fn.name): grid \(grid) too large") }
        let drv = fn.module.device.driver
        guard let encode = drv.cuTensorMapEncodeTiled else { throw .unsupported("the driver has no cuTensorMapEncodeTiled") }
        guard sharedBytes <= fn.module.device.maxSharedPerBlock else {
            throw .unsupported("\(fn.name) needs \(sharedBytes) bytes of shared memory, the device allows \(fn.module.device.maxSharedPerBlock)")
        }
        try drv.check(drv.cuFuncSetAttribute(fn.handle, 8, Int32(sharedBytes)), "cuFuncSetAttribute(\(fn.name))")
        // Offsets: the maps, then each argument aligned to its size.
        var offsets: [Int] = []
        var at = 128 * maps.count
        for a in args {
            let size = a.byteSize
            at = (at + size - 1) / size * size
            offsets.append(at)
            at += size
        }
        let total = (at + 63) / 64 * 64
        let params = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 64)
        defer { params.deallocate() }
        params.initializeMemory(as: UInt8.self, repeating: 0, count: total)
        let elementStrides: [UInt32] = [1, 1, 1]
        for (i, slot) in maps.enumerated() {
            guard let m = slot else { continue }
            guard m.address % 16 == 0 else { throw .badArgument("\(fn.name) needs 16-byte aligned tensors (map \(i) at \(m.address))") }
            let code = m.dims.withUnsafeBufferPointer { dp in
                m.strides.withUnsafeBufferPointer { sp in
                    m.box.withUnsafeBufferPointer { bp in
                        elementStrides.withUnsafeBufferPointer { ep in
                            // UINT16 elements, no interleave, 128-byte swizzle, 128-byte L2 promotion, zero fill.
                            encode(params + 128 * i, 1, 3, UnsafeMutableRawPointer(bitPattern: UInt(m.address)), dp.baseAddress!,
                                   sp.baseAddress!, bp.baseAddress!, ep.baseAddress!, 0, 3, 2, 0)
                        }
                    }
                }
            }
            try drv.check(code, "cuTensorMapEncodeTiled(\(fn.name) map \(i): dims \(m.dims), strides \(m.strides), box \(m.box))")
        }
        for (a, off) in zip(args, offsets) {
            if a.byteSize == 4 { params.storeBytes(of: UInt32(truncatingIfNeeded: a.bits), toByteOffset: off, as: UInt32.self) }
            else { params.storeBytes(of: a.bits, toByteOffset: off, as: UInt64.self) }
        }
        var pointers: [UnsafeMutableRawPointer?] = [params] + offsets.map { params + $0 }
        let code = pointers.withUnsafeMutableBufferPointer { p in
            drv.cuLaunchKernel(fn.handle, UInt32(grid.0), UInt32(grid.1), UInt32(grid.2), UInt32(block), 1, 1,
                               UInt32(sharedBytes), stream.handle, p.baseAddress, nil)
        }
        try drv.check(code, "cuLaunchKernel(\(fn.name))")
    }
}

extension KernelArg {
    /// Bytes of the argument in a kernel's parameter block.
    var byteSize: Int {
        switch self {
        case .int32, .float: return 4
        case .pointer, .null, .int64: return 8
        }
    }
}
