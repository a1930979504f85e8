import KascadeCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One sequence running through a ``LlamaModel``: its KV cache and every work buffer, allocated once.
///
/// Tokens are appended by ``prefill(_:progress:)`` (in chunks of ``chunkSize`` tokens, a multiple of
/// 32, so attention tiles line up with absolute positions) and ``step(_:)``. Every layer's
/// attention goes through ``policy``; ``observer`` sees the residual stream around attention.
public final class InferenceSession {
    /// The model.
    public let model: LlamaModel
    /// The attention method used in every layer.
    public let policy: AttentionPolicy
    /// Sees each layer's residual and attention output when set (calibration).
    public var observer: ResidualObserver?
    /// Tokens appended per forward pass during prefill.
    public let chunkSize: Int
    /// Maximum tokens in the cache.
    public let capacity: Int
    /// The cache.
    public let cache: KVCache
    /// Tokens in the cache.
    public internal(set) var position = 0
    /// Seconds spent inside `policy.attend` since the last reset.
    public internal(set) var attentionSeconds: Double = 0

    let buffers: SessionBuffers
    let scratch: MatmulScratch
    let qkvGroups: [MatmulGroup]
    let outGroups: [MatmulGroup]
    let gateUpGroups: [MatmulGroup]
    let downGroups: [MatmulGroup]
    let headGroup: MatmulGroup
    /// `[capacity, n_rot / 2]` cosines and sines of `position * frequency`.
    let ropeCos: UnsafeMutablePointer<Float>
    let ropeSin: UnsafeMutablePointer<Float>

    /// Allocates the cache for `maxContext` tokens (default: the model's context) and all buffers.
    /// - Parameter chunkSize: prefill chunk, a positive multiple of 32 (default 128).
    public init(model: LlamaModel, policy: AttentionPolicy, maxContext: Int? = nil, chunkSize: Int = 128) throws {
        let c = model.config
        let cap = maxContext ?? c.contextLength
        guard cap > 0 else { throw ModelError.badHyperparameter(what: "maxContext", value: "\(cap)") }
        guard cap <= c.contextLength else { throw ModelError.contextTooLong(requested: cap, model: c.contextLength) }
        guard chunkSize > 0, chunkSize % 32 == 0 else { throw ModelError.badHyperparameter(what: "chunkSize", value: "\(chunkSize)") }
        self.model = model
        self.policy = policy
        self.capacity = cap
        self.chunkSize = chunkSize
        cache = KVCache(layers: c.layers, capacity: cap, geometry: c.geometry)
        let b = SessionBuffers(config: c, chunk: chunkSize)
        buffers = b
        scratch = MatmulScratch(maxCols: max(c.width, c.ffnWidth, c.queryHeads * c.headDim))
        let qd = c.queryHeads * c.headDim, kd = c.kvHeads * c.headDim
        qkvGroups = model.layers.map {
            MatmulGroup([MatmulTask(weight: $0.query, output: b.q, outStride: qd),
                         MatmulTask(weight: $0.key, output: b.k, outStride: kd),
                         MatmulTask(weight: $0.value, output: b.v, outStride: kd)])
        }
        outGroups = model.layers.map { MatmulGroup([MatmulTask(weight: $0.output, output: b.ao, outStride: c.width)]) }
        gateUpGroups = model.layers.map {
            MatmulGroup([MatmulTask(weight: $0.gate, output: b.hg, outStride: c.ffnWidth),
                         MatmulTask(weight: $0.up, output: b.hu, outStride: c.ffnWidth)])
        }
        downGroups = model.layers.map { MatmulGroup([MatmulTask(weight: $0.down, output: b.ao, outStride: c.width)]) }
        headGroup = MatmulGroup([MatmulTask(weight: model.outputHead, output: b.logits, outStride: c.vocabularySize)])
        let pairs = c.ropeDimensions / 2
        ropeCos = .allocate(capacity: cap * pairs)
        ropeSin = .allocate(capacity: cap * pairs)
        for p in 0..<cap {
            for i in 0..<pairs {
                let angle = Double(p) * model.ropeFrequencies[i]
                ropeCos[p * pairs + i] = Float(cos(angle))
                ropeSin[p * pairs + i] = Float(sin(angle))
            }
        }
    }

    deinit {
        ropeCos.deallocate()
        ropeSin.deallocate()
    }

    /// Empties the cache (positions are overwritten) and resets the policy and the attention timer.
    public func reset() {
        position = 0
        attentionSeconds = 0
        policy.reset()
    }

    /// Forgets the tokens after the first `newPosition` (their cache rows are overwritten by what comes
    /// next); the policy is not reset. Lets several continuations share one prefilled prompt.
    public func truncate(to newPosition: Int) {
        precondition(newPosition >= 0 && newPosition <= position, "truncate to \(newPosition) outside 0...\(position)")
        position = newPosition
    }

    /// Appends `tokens` in chunks; returns the logits `[vocab]` of the last one.
    /// `progress(done, total)` is called after each chunk.
    public func prefill(_ tokens: [Int32], progress: ((Int, Int) -> Void)? = nil) throws -> [Float] {
        try check(tokens)
        var done = 0
        while done < tokens.count {
            let n = min(chunkSize, tokens.count - done)
            try tokens.withUnsafeBufferPointer { try forward($0.baseAddress! + done, count: n, allLogits: nil) }
            done += n
            progress?(done, tokens.count)
        }
        return Array(UnsafeBufferPointer(start: buffers.logits, count: model.config.vocabularySize))
    }

    /// Like ``prefill(_:progress:)`` but returns the logits of every appended token, `[T * vocab]` row-major.
    public func prefillAllLogits(_ tokens: [Int32], progress: ((Int, Int) -> Void)? = nil) throws -> [Float] {
        try check(tokens)
        let vocab = model.config.vocabularySize
        var out = [Float](repeating: 0, count: tokens.count * vocab)
        var done = 0
        try out.withUnsafeMutableBufferPointer { o in
            while done < tokens.count {
                let n = min(chunkSize, tokens.count - done)
                try tokens.withUnsafeBufferPointer {
                    try forward($0.baseAddress! + done, count: n, allLogits: o.baseAddress! + done * vocab)
                }
                done += n
                progress?(done, tokens.count)
            }
        }
        return out
    }

    /// One decode step: appends `token` and returns its logits `[vocab]`.
    public func step(_ token: Int32) throws -> [Float] {
        try stepInPlace(token)
        return Array(UnsafeBufferPointer(start: buffers.logits, count: model.config.vocabularySize))
    }

    /// One decode step without allocating: the logits `[vocab]` stay in ``logits`` until the next call.
    public func stepInPlace(_ token: Int32) throws {
        var t = token
        try check(CollectionOfOne(token))
        try withUnsafePointer(to: &t) { try forward($0, count: 1, allLogits: nil) }
    }

    /// The logits `[vocab]` of the last token processed (valid until the next call).
    public var logits: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: buffers.logits, count: model.config.vocabularySize)
    }

    private func check<C: Collection>(_ tokens: C) throws where C.Element == Int32 {
        guard !tokens.isEmpty else { throw ModelError.emptyPrompt }
        guard position + tokens.count <= capacity else {
            throw ModelError.contextOverflow(needed: position + tokens.count, capacity: capacity)
        }
        let vocab = model.config.vocabularySize
        for t in tokens where t < 0 || Int(t) >= vocab { throw ModelError.badToken(id: t, vocabulary: vocab) }
    }

    /// Monotonic seconds.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
