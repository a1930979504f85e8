// Programmatic dependent launch (sm_90 and later), composed before every decode source (KernelSource).
// Every kernel of the decode modules starts with grid_dependency_sync(), so the host may launch it to
// overlap the end of the kernel before it on the stream (CUDAStream.overlapsLaunches): its blocks
// wait here until that kernel has finished and its writes are visible, before touching any memory,
// and allow the next kernel's blocks to be placed while this one runs its last blocks. Without that
// launch attribute both instructions return at once.
__device__ __forceinline__ void grid_dependency_sync() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}
