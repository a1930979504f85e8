import KascadeCore

/// Draws tokens from logits: greedy, or temperature softmax restricted by top-k then top-p, seeded.
///
/// With `temperature > 0` the candidates are sorted by logit (ties: lower id first), cut to
/// `topK`, turned into probabilities `softmax(logit / temperature)`, cut to the smallest prefix whose
/// mass reaches `topP`, renormalised, and one is drawn with a SplitMix64 generator seeded by `seed`.
/// Non-finite logits are never drawn (NaN and -inf count as impossible).
public struct Sampler {
    /// The options in use.
    public let options: SamplerOptions
    private var state: UInt64
    private var order: [Int32] = []
    private var probs: [Float] = []
    private var scratch: [Int32] = []

    /// A sampler with its generator seeded from `options.seed`.
    public init(_ options: SamplerOptions) {
        self.options = options
        state = options.seed
    }

    /// The next uniform double in [0, 1).
    private mutating func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Index of the largest finite logit (lowest index on ties; 0 when none is finite).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = -1
        var bestValue = -Float.infinity
        for i in 0..<logits.count where logits[i] > bestValue || (best < 0 && logits[i] == bestValue) {
            best = i
            bestValue = logits[i]
        }
        return Int32(max(best, 0))
    }

    /// Draws one token id from `logits` `[vocab]`.
    public mutating func sample(_ logits: [Float]) -> Int32 {
        logits.withUnsafeBufferPointer { sample($0) }
    }

    /// Draws one token id from `logits` `[vocab]` without copying them.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        let o = options
        guard o.temperature > 0, o.temperature.isFinite else { return Sampler.argmax(logits) }
        let byLogit: (Int32, Int32) -> Bool = { a, b in
            logits[Int(a)] > logits[Int(b)] || (logits[Int(a)] == logits[Int(b)] && a < b)
        }
        order.removeAll(keepingCapacity: true)
        if o.topK > 0 && o.topK < logits.count {
            // Exact top-k (KascadeCore's selection: higher first, lower id on ties, NaN last) then sort k.
            if scratch.count < logits.count { scratch = [Int32](repeating: 0, count: logits.count) }
            order = [Int32](repeating: 0, count: o.topK)
            scratch.withUnsafeMutableBufferPointer { sc in
                order.withUnsafeMutableBufferPointer { out in
                    TopK.select(scores: logits.baseAddress!, count: logits.count, k: o.topK,
                                scratch: sc.baseAddress!, into: out.baseAddress!)
                }
            }
            order.removeAll { !logits[Int($0)].isFinite }
        } else {
            for i in 0..<logits.count where logits[i].isFinite { order.append(Int32(i)) }
        }
        guard !order.isEmpty else { return Sampler.argmax(logits) }
        order.sort(by: byLogit)
        let maxLogit = logits[Int(order[0])]
        probs.removeAll(keepingCapacity: true)
        var total: Double = 0
        for id in order {
            let p = Double((logits[Int(id)] - maxLogit) / o.temperature)
            let e = Float(exp(p))
            probs.append(e)
            total += Double(e)
        }
        var keep = probs.count
        if o.topP < 1 {
            var mass: Double = 0
            for (i, p) in probs.enumerated() {
                mass += Double(p) / total
                if mass >= Double(o.topP) { keep = i + 1; break }
            }
        }
        var kept: Double = 0
        for i in 0..<keep { kept += Double(probs[i]) }
        let u = uniform() * kept
        var acc: Double = 0
        for i in 0..<keep {
            acc += Double(probs[i])
            if u < acc { return order[i] }
        }
        return order[keep - 1]
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
