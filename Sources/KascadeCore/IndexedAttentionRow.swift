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
            let s = VectorMath.dot(q, kv.key(g, Int(indices[j])), d) * scale
            scratch[j] = s
            m = max(m, s)
        }
        var sum = VectorMath.expShiftedSum(scratch, count, shift: m)
        if let w = weights {
            sum = 0
            for j in 0..<count { scratch[j] *= w[j]; sum += scratch[j] }
        }
        let inv = 1 / sum
        for j in 0..<count { VectorMath.axpy(out, scratch[j] * inv, kv.value(g, Int(indices[j])), d) }
    }
}
