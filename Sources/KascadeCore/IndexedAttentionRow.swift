/// Attention of one query row over an explicit list of key positions — the kernel every sparse
/// method ends in.
///
/// `out = sum_j w_j e^(s_j - m) v_j / sum_j w_j e^(s_j - m)` with `s_j = q . k_(idx_j) * scale`,
/// over `j < count`; `w_j = 1` when `weights` is nil (exact softmax renormalised over the set).
/// Positions must be valid (`0 <= idx_j < kv.length`); duplicates count twice.
public enum IndexedAttentionRow {
    /// - Parameters:
    ///   - q: one query row, `d` floats.
    ///   - g: KV head.
    ///   - indices: `count` key positions.
    ///   - weights: optional `count` per-key weights (vAttention's sampling weights).
    ///   - scratch: at least `count` floats of scratch space.
    ///   - out: `d` floats, overwritten.
    @inlinable
    public static func attend(q: UnsafePointer<Float>, kv: KVCacheView, g: Int,
                              indices: UnsafePointer<Int32>, count: Int,
                              weights: UnsafePointer<Float>? = nil,
                              scratch: UnsafeMutablePointer<Float>,
                              out: UnsafeMutablePointer<Float>) {
        let d = kv.geometry.headDim
        for i in 0..<d { out[i] = 0 }
        guard count > 0 else { return }
        let scale = kv.geometry.scale
        var m = -Float.infinity
        for j in 0..<count {
            let k = kv.key(g, Int(indices[j]))
            var acc: Float = 0
            for i in 0..<d { acc += q[i] * k[i] }
            acc *= scale
            scratch[j] = acc
            m = max(m, acc)
        }
        var sum: Float = 0
        for j in 0..<count {
            var e = (scratch[j] - m).exp
            if let w = weights { e *= w[j] }
            scratch[j] = e
            sum += e
        }
        let inv = 1 / sum
        for j in 0..<count {
            let v = kv.value(g, Int(indices[j]))
            let p = scratch[j] * inv
            for i in 0..<d { out[i] += p * v[i] }
        }
    }
}
