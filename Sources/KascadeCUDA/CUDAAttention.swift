// Kascade on the GPU (Deshmukh, Goyal, Kwatra, Ramjee, arXiv 2512.16391; SPEC 2.2), its peers and
// dense attention, behind the core's AttentionPolicy.
import KascadeCore

/// Every attention method of the core on the GPU as an ``AttentionPolicy``: float32 host tensors in
/// and out, converted to `dtype` on the way (so results match the CPU within that rounding).
///
/// - `dense`: any `T` (each query row runs as a decode over its causal prefix).
/// - `kascade`: decode steps (`T == 1`) in all three variants: anchor layers select on the GPU
///   (layer 0 attends densely), reuse layers attend over the anchor's indices through the head map
///   (`pooled`: one index set shared by every head). Prefill chunks (`T > 1`) run the tile-level
///   anchor and reuse kernels (tile 32) in all three variants.
/// - `quest`, `twilight`, `vattention`: their decode kernels; prefill and the dense layers densely.
/// - `streaming`: sinks plus recent window through the gather kernel, each query row its own window.
///
/// Every call uploads the layer's keys and values (the model's cache lives on the host), so this is
/// for correctness and integration; the kernels' speed is measured by ``DecodeBench``.
public final class CUDAAttention: AttentionPolicy {
    /// What the policy computes.
    public enum Method {
        /// Exact attention.
        case dense
        /// Kascade with a schedule, head-aware or no-remap.
        case kascade(KascadeSchedule, KascadeVariant)
        /// Quest (SPEC 2.3) at `budget`: pages of 16, the first two layers and prefill dense.
        case quest(Budget)
        /// Twilight (SPEC 2.4): Quest candidates at `baseFraction` of the context (floor `budget.kMin`),
        /// pruned to mass `topP`; the first two layers and prefill dense.
        case twilight(Budget, baseFraction: Double, topP: Float)
        /// vAttention (SPEC 2.5) with the exact top-k predictor at `budget`; prefill dense. The config's
        /// layer is replaced by the layer attended.
        case vattention(Budget, VAttentionGPUConfig)
        /// StreamingLLM (SPEC 2.6): `sinks` first keys plus the most recent ones, `budget` keys per query.
        case streaming(Budget, sinks: Int)
    }

    public let name: String
    public internal(set) var stats = AttentionStats()
    /// Element type the tensors are rounded to on the GPU.
    public let dtype: KVDType
    /// The device.
    public let device: CUDADevice

    let method: Method
    let compiler: KernelCompiler
    let stream: CUDAStream
    private var kernels: [String: DecodeKernels] = [:]
    var prefillKernels: [String: KascadePrefillKernels] = [:]
    var peerKernels: [String: PeerDecodeKernels] = [:]
    /// Per query head: Twilight's kept keys or vAttention's sample size `b` in the last sparse step.
    public internal(set) var lastSelectionSizes: [Int] = []
    private var buffers: [String: DeviceBuffer] = [:]
    /// `(N, anchor layer, k, index heads)` of the decode indices kept on the device (`idx`, `[heads, k]`:
    /// `G` rows, or one when pooled).
    var selectionKey: (length: Int, layer: Int, k: Int, heads: Int)?
    /// The prefill selection kept on the device (`pidx`, `pcounts`) for the reuse layers of this chunk.
    var prefillSelection: (selection: KascadePrefillSelection, idx: DeviceBuffer, counts: DeviceBuffer)?

    /// Opens the GPU (throws a one-line `CUDAError` without one) and prepares `method`.
    public init(method: Method, dtype: KVDType = .fp16, device: CUDADevice? = nil) throws(CUDAError) {
        self.method = method
        self.dtype = dtype
        if let device { self.device = device } else { self.device = try CUDADevice() }
        compiler = try KernelCompiler(architecture: self.device.architecture)
        stream = try CUDAStream(device: self.device)
        switch method {
        case .dense: name = "dense"
        case .kascade: name = "kascade"
        case .quest: name = "quest"
        case .twilight: name = "twilight"
        case .vattention: name = "vattention"
        case .streaming: name = "streaming"
        }
    }

    public func reset() {
        stats = AttentionStats()
        selectionKey = nil
        prefillSelection = nil
    }

    func buffer(_ key: String, bytes: Int) throws(CUDAError) -> DeviceBuffer {
        if let b = buffers[key], b.byteCount >= bytes { return b }
        let b = try device.allocate(bytes)
        buffers[key] = b
        return b
    }

    func kernelsFor(_ geo: AttentionGeometry) throws(CUDAError) -> DecodeKernels {
        let key = "\(geo.queryHeads)/\(geo.kvHeads)/\(geo.headDim)"
        if let k = kernels[key] { return k }
        let k = try DecodeKernels(device: device, compiler: compiler, dtype: dtype, headDim: geo.headDim,
                                  queryHeads: geo.queryHeads, kvHeads: geo.kvHeads)
        kernels[key] = k
        return k
    }

    public func attend(layer: Int, queries: UnsafePointer<Float>, queryCount T: Int,
                       kv: KVCacheView, output: UnsafeMutablePointer<Float>) throws {
        let geo = kv.geometry, N = kv.length, H = geo.queryHeads, G = geo.kvHeads, d = geo.headDim
        guard T >= 1, T <= N else { throw AttentionError.badShape("queries \(T) for \(N) keys") }
        try device.makeCurrent()
        let kern = try kernelsFor(geo)
        // Keys and values [G, N, d] and queries [T, H, d] in the element type.
        var kBits = [UInt16](repeating: 0, count: G * N * d), vBits = kBits
        for g in 0..<G {
            for n in 0..<N {
                let kr = kv.key(g, n), vr = kv.value(g, n), o = (g * N + n) * d
                for i in 0..<d { kBits[o + i] = HalfPrecision.bits(kr[i], dtype); vBits[o + i] = HalfPrecision.bits(vr[i], dtype) }
            }
        }
        var qBits = [UInt16](repeating: 0, count: T * H * d)
        for h in 0..<H { for t in 0..<T { for i in 0..<d { qBits[(t * H + h) * d + i] = HalfPrecision.bits(queries[(h * T + t) * d + i], dtype) } } }
        let kb = try buffer("k", bytes: kBits.count * 2), vb = try buffer("v", bytes: vBits.count * 2)
        let qb = try buffer("q", bytes: qBits.count * 2), ob = try buffer("out", bytes: T * H * d * 4)
        try kb.upload(kBits); try vb.upload(vBits); try qb.upload(qBits)
        let dense = DenseAttention.causalKeys(queryCount: T, kv: kv)

        switch method {
        case .quest, .twilight, .vattention:
            let p = DecodeInputs(q: qb.address, k: kb.address, v: vb.address, batch: 1, length: N)
            if try !attendPeer(layer: layer, queryCount: T, inputs: p, geometry: geo, out: ob.address) {
                try denseRows(kern, T: T, N: N, geometry: geo, q: qb, k: kb, v: vb, out: ob)
                stats.record(keys: dense, dense: dense)
            }
        case .dense:
            try denseRows(kern, T: T, N: N, geometry: geo, q: qb, k: kb, v: vb, out: ob)
            stats.record(keys: dense, dense: dense)
        case .streaming(let budget, let sinks):
            try attendStreaming(kern, budget: budget, sinks: sinks, T: T, N: N, geometry: geo, dense: dense, q: qb, k: kb, v: vb, out: ob)
        case .kascade(let schedule, let variant):
            guard layer >= 0, layer < schedule.layers, G == schedule.kvHeads else {
                throw AttentionError.badArgument("layer \(layer) / \(G) KV heads do not fit the schedule (\(schedule.layers) layers, \(schedule.kvHeads) KV heads)")
            }
            if T > 1 {
                try attendKascadePrefill(schedule, variant, layer: layer, queries: queries, T: T, kv: kv, k: kb, v: vb, output: output)
                return
            }
            try attendKascadeDecode(kern, schedule, variant, layer: layer, N: N, geometry: geo, q: qb, k: kb, v: vb, out: ob)
        }
        let out = try ob.download(Float.self, count: T * H * d)     // waits for the stream
        for h in 0..<H { for t in 0..<T { for i in 0..<d { output[(h * T + t) * d + i] = out[(t * H + h) * d + i] } } }
    }

    /// Dense decode of each query row `t` over its causal prefix of `N - T + t + 1` keys: `q [T, H, d]`,
    /// `out [T, H, d]` fp32.
    func denseRows(_ kern: DecodeKernels, T: Int, N: Int, geometry geo: AttentionGeometry, q: DeviceBuffer, k: DeviceBuffer,
                   v: DeviceBuffer, out: DeviceBuffer) throws(CUDAError) {
        let H = geo.queryHeads, d = geo.headDim
        for t in 0..<T {
            let p = DecodeInputs(q: q.address(offset: t * H * d * 2), k: k.address, v: v.address,
                                 batch: 1, length: N - T + t + 1, capacity: N)
            try kern.dense(p, out: out.address(offset: t * H * d * 4), stream: stream)
        }
    }

    /// The decode anchor's indices kept on the device, `[heads, k]` ascending (one row per KV head,
    /// or one row when pooled; nil before the first anchor).
    public func anchorIndices() throws(CUDAError) -> (heads: Int, k: Int, indices: [Int32])? {
        guard let key = selectionKey, let b = buffers["idx"] else { return nil }
        return (key.heads, key.k, try b.download(Int32.self, count: key.heads * key.k))
    }
}
