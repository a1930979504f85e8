/// A loaded cubin and its kernels.
public final class CUDAModule {
    let device: CUDADevice
    let handle: CUhandle?
    /// Whether every kernel of the module begins with `grid_dependency_sync()` (grid_dependency.cuh), so it may
    /// be launched to overlap the end of the kernel before it on its stream (see `CUDAStream.overlapsLaunches`).
    public let overlapsLaunches: Bool

    /// Loads `cubin` into the device's context.
    public init(device: CUDADevice, cubin: [UInt8], overlapsLaunches: Bool = false) throws(CUDAError) {
        self.device = device
        self.overlapsLaunches = overlapsLaunches
        var m: CUhandle?
        let code = cubin.withUnsafeBytes { device.driver.cuModuleLoadData(&m, $0.baseAddress!) }
        try device.driver.check(code, "cuModuleLoadData")
        handle = m
    }

    /// The kernel `name` (an `extern "C"` symbol).
    public func function(_ name: String) throws(CUDAError) -> KernelFunction {
        var f: CUhandle?
        try device.driver.check(device.driver.cuModuleGetFunction(&f, handle, name), "cuModuleGetFunction(\(name))")
        return KernelFunction(module: self, handle: f, name: name)
    }
}
