/// Work buffers of an ``InferenceSession`` for chunks of up to `chunk` tokens, allocated once.
final class SessionBuffers {
    /// `[chunk, width]` residual stream.
    let x: UnsafeMutablePointer<Float>
    /// `[chunk, width]` normalised residual.
    let xb: UnsafeMutablePointer<Float>
    /// `[chunk, H * d]` queries, token-major.
    let q: UnsafeMutablePointer<Float>
    /// `[chunk, G * d]` new keys and values, token-major.
    let k: UnsafeMutablePointer<Float>
    let v: UnsafeMutablePointer<Float>
    /// `[H, chunk, d]` queries and attention output, head-major (the policy's layout).
    let qh: UnsafeMutablePointer<Float>
    let ah: UnsafeMutablePointer<Float>
    /// `[chunk, H * d]` attention output, token-major.
    let att: UnsafeMutablePointer<Float>
    /// `[chunk, width]` output of the attention or feed-forward projection.
    let ao: UnsafeMutablePointer<Float>
    /// `[chunk, ffn]` gate and up projections.
    let hg: UnsafeMutablePointer<Float>
    let hu: UnsafeMutablePointer<Float>
    /// `[vocab]` logits of the last token.
    let logits: UnsafeMutablePointer<Float>
    private var all: [UnsafeMutablePointer<Float>] = []

    init(config c: LlamaConfig, chunk: Int) {
        func make(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            p.initialize(repeating: 0, count: n)
            return p
        }
        let qd = c.queryHeads * c.headDim, kd = c.kvHeads * c.headDim
        x = make(chunk * c.width); xb = make(chunk * c.width)
        q = make(chunk * qd); k = make(chunk * kd); v = make(chunk * kd)
        qh = make(chunk * qd); ah = make(chunk * qd); att = make(chunk * qd)
        ao = make(chunk * c.width)
        hg = make(chunk * c.ffnWidth); hu = make(chunk * c.ffnWidth)
        logits = make(c.vocabularySize)
        all = [x, xb, q, k, v, qh, ah, att, ao, hg, hu, logits]
    }

    deinit { for p in all { p.deallocate() } }
}
