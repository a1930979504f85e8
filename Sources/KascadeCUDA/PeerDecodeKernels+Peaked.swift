#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import KascadeCore

/// Peaked benchmark inputs for the peer methods: real attention is peaked and the query heads of a
/// GQA group attend to similar keys, which i.i.d. random inputs (flat attention) do not show.
///
/// Per (sequence, KV head) a shared direction `u` (entries +-1, from the seed) and a few heavy keys:
/// the first 4 positions (sinks), the last 16 (recent), and aligned runs of 8 positions drawn with
/// probability `rate` (about `rate` of the keys); a heavy key gets `c * w * u` added (`w = 1` for sinks
/// and recent keys, else uniform in [0.5, 1)). Query head `h` of KV head `g` is
/// `beta * (u + sigma * uniform(-1, 1)^d)`. With uniform(-1, 1) keys, d = 128 and the defaults
/// (`beta = 3`, `sigma = 0.5`, `c = 0.2`, `rate = 0.015`) the top 10% of the keys carry about 92% of each
/// head's softmax mass.
extension PeerDecodeKernels {
    /// Default peaked-input parameters `(beta, sigma, c, rate)`.
    public static let peakedDefaults: (beta: Float, sigma: Float, c: Float, rate: Float) = (3, 0.5, 0.2, 0.015)

    /// Adds the heavy-key pattern to keys `k [rows, n, d]` (row `r` belongs to `(b, g) = r % (batch * G)`),
    /// in place; fill them with uniform(-1, 1) values first.
    public func addPeakedKeys(_ k: UInt64, rows: Int, length n: Int, batch: Int, seed: UInt64,
                              c: Float = peakedDefaults.c, rate: Float = peakedDefaults.rate, stream: CUDAStream) throws(CUDAError) {
        guard rows > 0, n > 16, batch > 0 else { throw .badArgument("peaked keys need rows > 0, N > 16, batch > 0 (\(rows), \(n), \(batch))") }
        let blocks = min(max(1, (rows * n + 255) / 256), device.multiprocessors * 32)
        try peakedKeysFn.launch(grid: (blocks, 1, 1), block: 256, stream: stream,
                                [.pointer(k), .int64(Int64(rows)), .int32(Int32(n)), .int64(Int64(batch * kvHeads)),
                                 .int64(Int64(bitPattern: seed)), .float(rate), .float(c)])
    }

    /// Writes peaked queries `q [batch, H, d]` aligned with the directions of ``addPeakedKeys``'s `seed`.
    public func fillPeakedQueries(_ q: UInt64, batch: Int, seed: UInt64, beta: Float = peakedDefaults.beta,
                                  sigma: Float = peakedDefaults.sigma, stream: CUDAStream) throws(CUDAError) {
        let count = batch * queryHeads * headDim
        try peakedQueriesFn.launch(grid: (min(max(1, (count + 255) / 256), device.multiprocessors * 16), 1, 1), block: 256, stream: stream,
                                   [.pointer(q), .int32(Int32(batch)), .int32(Int32(kvHeads)), .int64(Int64(bitPattern: seed)),
                                    .float(beta), .float(sigma)])
    }

    /// Mean share of the softmax mass (scale `1/sqrt(d)`) that the top `fraction` of the keys carry, over
    /// the query heads of KV head `g` of sequence `b`: keys `[B, G, capacity, d]` at `k`, queries
    /// `[B, H, d]` at `q`, the first `n` positions. Copies that head's keys to the host.
    public func topMass(q: UInt64, k: UInt64, batch b: Int, kvHead g: Int, length n: Int, capacity: Int,
                        fraction: Double, stream: CUDAStream) throws(CUDAError) -> Double {
        let d = headDim, row = n * d
        let kb = try device.allocate(row * 2), qb = try device.allocate(group * d * 2)
        try stream.copy(from: k + UInt64(((b * kvHeads + g) * capacity) * d * 2), to: kb.address, bytes: row * 2)
        try stream.copy(from: q + UInt64((b * queryHeads + g * group) * d * 2), to: qb.address, bytes: group * d * 2)
        try stream.synchronize()
        let keys = try kb.download(UInt16.self, count: row).map { HalfPrecision.value($0, dtype) }
        let qs = try qb.download(UInt16.self, count: group * d).map { HalfPrecision.value($0, dtype) }
        let top = max(1, Int((fraction * Double(n)).rounded(.up)))
        var total = 0.0
        var s = [Float](repeating: 0, count: n)
        let scale = 1 / Float(d).squareRoot()
        for hh in 0..<group {
            keys.withUnsafeBufferPointer { kp in
                for j in 0..<n {
                    var acc: Float = 0
                    for i in 0..<d { acc += qs[hh * d + i] * kp[j * d + i] }
                    s[j] = acc * scale
                }
            }
            let m = s.max() ?? 0
            let e = s.map { exp(Double($0 - m)) }
            let sorted = e.sorted(by: >)
            total += sorted.prefix(top).reduce(0, +) / e.reduce(0, +)
        }
        return total / Double(group)
    }
}
