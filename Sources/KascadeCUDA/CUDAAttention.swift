// Kascade decode on the GPU (Deshmukh, Goyal, Kwatra, Ramjee, arXiv 2512.16391; SPEC 2.2), and
// dense attention, behind the core's AttentionPolicy.
import KascadeCore

/// Dense or Kascade attention on the GPU as an ``AttentionPolicy``: float32 host tensors in and
/// out, converted to `dtype` on the way (so results match the CPU within that rounding).
///
/// - `dense`: any `T` (each query row runs as a decode over its causal prefix).
/// - `kascade`: decode steps (`T == 1`), head-aware or no-remap schedules: anchor layers select on
///   the GPU (layer 0 attends densely), reuse layers attend over the anchor's indices through the
///   head map. Tile-level prefill (`T > 1`) and the `pooled` variant are not built on the GPU and
///   throw `CUDAError.unsupported`.
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
    var peerKernels: [String: PeerDecodeKernels] = [:]
    /// Per query head: Twilight's kept keys or vAttention's sample size `b` in the last sparse step.
    public internal(set) var lastSelectionSizes: [Int] = []
    private var buffers: [String: DeviceBuffer] = [:]
    /// `(N, anchor layer, k)` of the indices kept on the device.
    private var selectionKey: (length: Int, layer: Int, k: Int)?

    /// Opens the GPU (throws a one-line `CUDAError` without one) and prepares `method`.
    public init(method: Method, dtype: KVDType = .fp16, device: CUDADevice? = nil) throws(CUDAError) {
        if case .kascade(_, let variant) = method, variant == .pooled {
            throw .unsupported("Kascade's pooled variant (one index set per layer) is not built on the GPU")
        }
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
        }
    }

    public func reset() {
        stats = AttentionStats()
        selectionKey = nil
    }

    func buffer(_ key: String, bytes: Int) throws(CUDAError) -> DeviceBuffer {
        if let b = buffers[key], b.byteCount >= bytes { return b }
        let b = try device.allocate(bytes)
        buffers[key] = b
        return b
    }

    private func kernelsFor(_ geo: AttentionGeometry) throws(CUDAError) -> DecodeKernels {
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
                for t in 0..<T {
                    let pt = DecodeInputs(q: qb.address(offset: t * H * d * 2), k: kb.address, v: vb.address,
                                          batch: 1, length: N - T + t + 1, capacity: N)
                    try kern.dense(pt, out: ob.address(offset: t * H * d * 4), stream: stream)
                }
                stats.record(keys: dense, dense: dense)
            }
        case .dense:
            for t in 0..<T {
                let p = DecodeInputs(q: qb.address(offset: t * H * d * 2), k: kb.address, v: vb.address,
                                     batch: 1, length: N - T + t + 1, capacity: N)
                try kern.dense(p, out: ob.address(offset: t * H * d * 4), stream: stream)
            }
            stats.record(keys: dense, dense: dense)
        case .kascade(let schedule, let variant):
            guard T == 1 else { throw CUDAError.unsupported("Kascade prefill (T = \(T) queries) on the GPU; decode steps only") }
            guard layer >= 0, layer < schedule.layers, G == schedule.kvHeads else {
                throw AttentionError.badArgument("layer \(layer) / \(G) KV heads do not fit the schedule (\(schedule.layers) layers, \(schedule.kvHeads) KV heads)")
            }
            let p = DecodeInputs(q: qb.address, k: kb.address, v: vb.address, batch: 1, length: N)
            let k = schedule.budget.keys(outOf: N)
            let idx = try buffer("idx", bytes: G * k * 4)
            if schedule.isAnchor(layer) {
                let stride = (N + 3) / 4 * 4
                let logits = try buffer("logits", bytes: H * stride * 4), pooled = try buffer("pooled", bytes: G * stride * 4)
                let lse = try buffer("lse", bytes: H * 4)
                if layer == 0 {
                    try kern.dense(p, out: ob.address, lse: lse.address, logits: logits.address, logitStride: stride, stream: stream)
                    try kern.select(batch: 1, length: N, logits: logits.address, logitStride: stride, lse: lse.address,
                                    pooled: pooled.address, pooledStride: stride, idx: idx.address, idxStride: k, k: k, stream: stream)
                } else {
                    try kern.scores(p, logits: logits.address, logitStride: stride, lse: lse.address, stream: stream)
                    try kern.select(batch: 1, length: N, logits: logits.address, logitStride: stride, lse: lse.address,
                                    pooled: pooled.address, pooledStride: stride, idx: idx.address, idxStride: k, k: k, stream: stream)
                    try kern.sparse(p, idx: idx.address, idxStride: k, idxHeads: G, count: k, headMap: nil, out: ob.address, stream: stream)
                }
                selectionKey = (N, layer, k)
                stats.record(keys: dense, dense: dense)
            } else {
                guard let key = selectionKey, key.length == N, key.layer == schedule.anchor(of: layer), key.k == k else {
                    throw AttentionError.badArgument("reuse layer \(layer) called before its anchor layer \(schedule.anchor(of: layer)) in this step")
                }
                let map = variant == .headAware ? schedule.headMaps[layer].map { Int32($0) } : (0..<G).map { Int32($0) }
                let mb = try buffer("map", bytes: G * 4)
                try mb.upload(map)
                try kern.sparse(p, idx: idx.address, idxStride: k, idxHeads: G, count: k, headMap: mb.address, out: ob.address, stream: stream)
                stats.record(keys: Double(k * H), dense: dense)
            }
        }
        try stream.synchronize()
        let out = try ob.download(Float.self, count: T * H * d)
        for h in 0..<H { for t in 0..<T { for i in 0..<d { output[(h * T + t) * d + i] = out[(t * H + h) * d + i] } } }
    }

    /// The anchor's indices kept on the device, `[G, k]` ascending (nil before the first anchor).
    public func anchorIndices(kvHeads: Int) throws(CUDAError) -> [Int32]? {
        guard let key = selectionKey, let b = buffers["idx"] else { return nil }
        return try b.download(Int32.self, count: kvHeads * key.k)
    }
}
