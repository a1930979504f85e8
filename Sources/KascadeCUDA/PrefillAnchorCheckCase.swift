/// One shape of the prefill anchor check: the layer, its rolling budget and the score-chunk bound.
public struct PrefillAnchorCheckCase: CustomStringConvertible, Sendable {
    /// Layer shape (`warps`, `mTiles`, `tileKeys` unused).
    public var layer: PrefillCheckCase
    /// Budget fraction and floor.
    public var fraction: Double, kMin: Int
    /// Bound on the pooled-score scratch: small, so that the tiles are processed in several chunks.
    public var scoreLimitBytes: Int

    /// A case of `layer` at budget `(fraction, kMin)`.
    public init(_ layer: PrefillCheckCase, fraction: Double, kMin: Int, scoreLimitBytes: Int) {
        self.layer = layer; self.fraction = fraction; self.kMin = kMin; self.scoreLimitBytes = scoreLimitBytes
    }

    public var description: String {
        let c = layer
        return "\(c.dtype) d=\(c.headDim) B=\(c.batch) H=\(c.queryHeads) G=\(c.kvHeads) T=\(c.queryCount) N=\(c.length) " +
            "f=\(fraction) kMin=\(kMin)"
    }
}
