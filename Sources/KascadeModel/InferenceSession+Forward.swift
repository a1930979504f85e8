import KascadeCore

extension InferenceSession {
    /// Runs `count <= chunkSize` tokens at positions `position ..< position + count` through every
    /// layer, appending their keys and values to the cache. Writes the last token's logits to
    /// `buffers.logits`, or every token's to `allLogits` (`[count, vocab]`) when given.
    func forward(_ tokens: UnsafePointer<Int32>, count T: Int, allLogits: UnsafeMutablePointer<Float>?) throws {
        let c = model.config
        let b = buffers
        let width = c.width, H = c.queryHeads, G = c.kvHeads, d = c.headDim
        let qd = H * d, kd = G * d
        let pos0 = position

        for t in 0..<T { model.embedding.dequantizeRows(Int(tokens[t]), count: 1, into: b.x + t * width) }

        for l in 0..<c.layers {
            let w = model.layers[l]
            w.attentionNorm.withUnsafeBufferPointer {
                FastMath.rmsNorm(b.x, gain: $0.baseAddress!, rows: T, width: width, eps: c.rmsEpsilon, out: b.xb)
            }
            qkvGroups[l].run(input: b.xb, inStride: width, tokens: T, scratch: scratch)

            // RoPE, then queries to [H, T, d] and keys/values into the cache.
            for t in 0..<T {
                let p = pos0 + t
                for h in 0..<H { rope(b.q + t * qd + h * d, position: p) }
                for g in 0..<G { rope(b.k + t * kd + g * d, position: p) }
                for h in 0..<H { (b.qh + (h * T + t) * d).update(from: b.q + t * qd + h * d, count: d) }
                for g in 0..<G {
                    cache.keyRow(layer: l, head: g, position: p).update(from: b.k + t * kd + g * d, count: d)
                    cache.valueRow(layer: l, head: g, position: p).update(from: b.v + t * kd + g * d, count: d)
                }
            }
            let start = InferenceSession.now()
            try policy.attend(layer: l, queries: b.qh, queryCount: T,
                              kv: cache.view(layer: l, length: pos0 + T), output: b.ah)
            attentionSeconds += InferenceSession.now() - start
            for t in 0..<T {
                for h in 0..<H { (b.att + t * qd + h * d).update(from: b.ah + (h * T + t) * d, count: d) }
            }
            outGroups[l].run(input: b.att, inStride: qd, tokens: T, scratch: scratch)
            observer?.observe(layer: l, residual: b.x, attentionOutput: b.ao, tokenCount: T, width: width)
            for i in 0..<(T * width) { b.x[i] += b.ao[i] }

            w.ffnNorm.withUnsafeBufferPointer {
                FastMath.rmsNorm(b.x, gain: $0.baseAddress!, rows: T, width: width, eps: c.rmsEpsilon, out: b.xb)
            }
            gateUpGroups[l].run(input: b.xb, inStride: width, tokens: T, scratch: scratch)
            FastMath.swiglu(b.hg, b.hu, T * c.ffnWidth)
            downGroups[l].run(input: b.hg, inStride: c.ffnWidth, tokens: T, scratch: scratch)
            for i in 0..<(T * width) { b.x[i] += b.ao[i] }
        }

        position = pos0 + T
        if let all = allLogits {
            model.outputNorm.withUnsafeBufferPointer {
                FastMath.rmsNorm(b.x, gain: $0.baseAddress!, rows: T, width: width, eps: c.rmsEpsilon, out: b.xb)
            }
            let head = MatmulGroup([MatmulTask(weight: model.outputHead, output: all, outStride: c.vocabularySize)])
            head.run(input: b.xb, inStride: width, tokens: T, scratch: scratch)
            (b.logits).update(from: all + (T - 1) * c.vocabularySize, count: c.vocabularySize)
        } else {
            model.outputNorm.withUnsafeBufferPointer {
                FastMath.rmsNorm(b.x + (T - 1) * width, gain: $0.baseAddress!, rows: 1, width: width, eps: c.rmsEpsilon, out: b.xb)
            }
            headGroup.run(input: b.xb, inStride: width, tokens: 1, scratch: scratch)
        }
    }

    /// Rotates adjacent pairs `(v[2i], v[2i+1])` of the first `n_rot` dimensions by `position * freq_i`.
    @inline(__always)
    func rope(_ v: UnsafeMutablePointer<Float>, position p: Int) {
        let pairs = model.config.ropeDimensions / 2
        let cs = ropeCos + p * pairs, sn = ropeSin + p * pairs
        for i in 0..<pairs {
            let x0 = v[2 * i], x1 = v[2 * i + 1]
            v[2 * i] = x0 * cs[i] - x1 * sn[i]
            v[2 * i + 1] = x0 * sn[i] + x1 * cs[i]
        }
    }
}
