/// Which kernel family `PrefillKernels` builds for dense causal prefill.
public enum PrefillEngine: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `wgmma` where the kernels compile for Hopper (`sm_90a`) and the driver encodes tensor maps,
    /// when the default block shape is asked for; `mmaSync` otherwise.
    case auto
    /// `mma.sync` m16n8k16 with cp.async double buffering (FlashAttention-2 style), any block shape.
    case mmaSync
    /// Hopper warpgroup products (`wgmma`) with TMA loads, one producer and two consumer
    /// warpgroups (FlashAttention-3 style); `sm_90a`, head dim 64 or 128.
    case wgmma

    public var description: String { rawValue }
}
