/// A loaded cubin and its kernels.
public final class CUDAModule {
    let device: CUDADevice
    let handle: CUhandle?

    /// Loads `cubin` into the device's context.
    public init(device: CUDADevice, cubin: [UInt8]) throws(CUDAError) {
        self.device = device
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
