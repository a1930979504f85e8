/// CUDA driver API and NVRTC reached through `dlopen`, and the attention kernels that run on them.
public enum KascadeCUDAInfo {
    /// GPU architecture kernels are compiled for.
    public static let architecture = "sm_90a"
}
