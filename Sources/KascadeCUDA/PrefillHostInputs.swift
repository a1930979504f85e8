import KascadeCore

/// Random prefill inputs of a GPU check, rounded to the element type (bits for the GPU, their float
/// values for the CPU reference): q `[B, H, T, d]` uniform in [-2.5, 2.5), k and v `[B, G, N, d]` uniform in [-1, 1).
struct PrefillHostInputs {
    let q: (bits: [UInt16], values: [Float])
    let k: (bits: [UInt16], values: [Float])
    let v: (bits: [UInt16], values: [Float])
    let geometry: AttentionGeometry
    let batch: Int, queryCount: Int, length: Int

    /// Draws q, then k, then v from `rng`.
    init(geometry: AttentionGeometry, batch: Int, queryCount: Int, length: Int, dtype: KVDType, rng: inout SplitMix) {
        let H = geometry.queryHeads, G = geometry.kvHeads, d = geometry.headDim
        q = HalfPrecision.round((0..<(batch * H * queryCount * d)).map { _ in rng.uniform() * 2.5 }, dtype)
        k = HalfPrecision.round((0..<(batch * G * length * d)).map { _ in rng.uniform() }, dtype)
        v = HalfPrecision.round((0..<(batch * G * length * d)).map { _ in rng.uniform() }, dtype)
        self.geometry = geometry
        self.batch = batch
        self.queryCount = queryCount
        self.length = length
    }

    /// Calls `body(b, queries, kv)` for each sequence `b`: its queries `[H, T, d]` and a view of its
    /// keys and values (all `N` positions valid).
    func forEachSequence(_ body: (Int, UnsafePointer<Float>, KVCacheView) -> Void) {
        let H = geometry.queryHeads, G = geometry.kvHeads, d = geometry.headDim, N = length
        k.values.withUnsafeBufferPointer { kp in
            v.values.withUnsafeBufferPointer { vp in
                q.values.withUnsafeBufferPointer { qp in
                    for b in 0..<batch {
                        let view = KVCacheView(keys: kp.baseAddress! + b * G * N * d, values: vp.baseAddress! + b * G * N * d,
                                               length: N, capacity: N, geometry: geometry)
                        body(b, qp.baseAddress! + b * H * queryCount * d, view)
                    }
                }
            }
        }
    }
}
