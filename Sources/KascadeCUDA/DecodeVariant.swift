/// A build and launch variant of the attention kernels: `tile x stages x waves`.
public struct DecodeVariant: Sendable, CustomStringConvertible {
    /// Keys per shared-memory tile.
    public var tile = 64
    /// cp.async pipeline depth.
    public var stages = 2
    /// Split-KV blocks aimed for, in resident-block multiples.
    public var waves = 4
    /// Tensor-core kernels (64-key tiles).
    public var mma = true
    /// Pick the split count near `waves` whose last wave is fullest (suffix `b`); off by default:
    /// on the H100 it was not faster than rounding up (B = 64, 128k: 11.71 ms against 11.54 ms).
    public var balanced = false
    /// Tensor-core builds ask L2 for the lines of the tile after the newest cp.async stage (contiguous
    /// keys and gathers, not Quest's page lists); suffix `p0` turns it off. On the H100 it made dense
    /// decode 1-3% faster at batch 8 and 64 and the reuse gathers 3% faster at batch 64
    /// (`bench/results/l2-prefetch/`).
    public var prefetch = true

    /// The default for dense decode and anchor scores: tensor cores, 2 stages, 4 waves (`mma2x4`).
    public init() {}

    /// The CUDA-core build for gathers: 32-key tiles, 2 stages, 8 waves (`32x2x8`), which keeps
    /// many rows in flight per multiprocessor. vAttention's scores use it (fp32 products, as the CPU
    /// computes them); the default gathers use the tensor-core build (`mma2x4`), which reads its
    /// next tile's positions one tile early and was 4-11% faster at batch 8 and 64 on the H100.
    public static let gather = DecodeVariant("32x2x8")!

    /// Parses `T`, `TxS` or `TxSxW` (`mma` for T: tensor cores, 64-key tiles), then `p0` or `p1` (L2
    /// prefetch off or on, tensor cores only; on by default) and `b` (balanced split counts); nil when
    /// malformed.
    public init?(_ text: String) {
        var text = Substring(text)
        if text.hasSuffix("b") { balanced = true; text = text.dropLast() }
        var prefetchSuffix: Bool?
        if let p = text.lastIndex(of: "p") {
            let n = text[text.index(after: p)...]
            guard n == "0" || n == "1" else { return nil }
            prefetchSuffix = n == "1"
            text = text[..<p]
        }
        mma = false
        tile = 32
        stages = 3
        waves = 8
        if text.hasPrefix("mma") {
            mma = true
            var rest = text.dropFirst(3)
            if rest.hasPrefix("x") && rest.count > 1 { rest = rest.dropFirst() }   // as printed: `mmax2x4`
            text = rest.isEmpty ? "64" : "64x" + rest
        }
        let parts = text.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard !parts.isEmpty, parts.count <= 3, parts.allSatisfy({ $0 != nil }) else { return nil }
        tile = parts[0]!
        if parts.count > 1 { stages = parts[1]! }
        if parts.count > 2 { waves = parts[2]! }
        if prefetchSuffix != nil && !mma { return nil }
        prefetch = mma && (prefetchSuffix ?? true)
    }

    public var description: String {
        "\(mma ? "mma" : "\(tile)")x\(stages)x\(waves)\(mma && !prefetch ? "p0" : "")\(balanced ? "b" : "")"
    }
}

