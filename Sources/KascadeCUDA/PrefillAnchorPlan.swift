import KascadeCore

/// How the Kascade prefill anchor walks its tiles (Deshmukh et al., arXiv 2512.16391; SPEC 2.2):
/// the selection rows, the widest row, and the chunks of consecutive tiles whose pooled scores are
/// held at once, so that scratch memory stays under a bound instead of growing as `N^2 / 32`.
public struct PrefillAnchorPlan: Sendable, Equatable {
    /// Positions per tile.
    public static let tile = 32

    /// One chunk: tiles (selection rows) `tileLo ..< tileLo + tiles`, each score row `stride` floats.
    public struct Chunk: Sendable, Equatable {
        /// First selection row of the chunk.
        public var tileLo: Int
        /// Rows in the chunk.
        public var tiles: Int
        /// Floats per score row: the chunk's widest candidate count, rounded up to 4 (16-byte rows).
        public var stride: Int
    }

    /// Sequences, KV heads, queries `T`, keys `N`.
    public let batch: Int, kvHeads: Int, queryCount: Int, length: Int
    /// The rolling budget `k_t = min(max(kMin, ceil(fraction t0)), t0)`.
    public let budget: Budget
    /// Selection rows: the tiles covering the last `T` positions (`SparseAttention.tileRows`).
    public let rows: Int
    /// Tile index of row 0: `(N - T) / 32`.
    public let firstTile: Int
    /// Slots per selection row: the largest `k_t`.
    public let capacity: Int
    /// Chunks in order; tiles that keep every earlier key (`k_t = t0`) need no scores but stay in their chunk.
    public let chunks: [Chunk]

    /// Splits the rows into chunks of at most `scoreLimitBytes` of scores each (a chunk holds at least
    /// one tile, so a single wider row is allowed to exceed the limit).
    public init(batch: Int, kvHeads: Int, queryCount T: Int, length N: Int, budget: Budget,
                scoreLimitBytes: Int = PrefillAnchorPlan.defaultScoreLimit) throws(CUDAError) {
        guard batch > 0, kvHeads > 0, T > 0, T <= N else {
            throw .badArgument("prefill anchor needs B > 0, G > 0 and 0 < T <= N (B=\(batch), G=\(kvHeads), T=\(T), N=\(N))")
        }
        guard scoreLimitBytes > 0 else { throw .badArgument("score limit \(scoreLimitBytes) bytes") }
        guard N < Int(Int32.max) - PrefillAnchorPlan.tile else { throw .unsupported("context \(N)") }
        self.batch = batch; self.kvHeads = kvHeads; queryCount = T; length = N; self.budget = budget
        rows = SparseAttention.tileRows(queryCount: T, length: N, tile: PrefillAnchorPlan.tile)
        firstTile = (N - T) / PrefillAnchorPlan.tile
        var cap = 0
        for r in 0..<rows { cap = max(cap, budget.keys(outOf: (firstTile + r) * PrefillAnchorPlan.tile)) }
        capacity = cap
        var chunks: [Chunk] = []
        var lo = 0
        while lo < rows {
            var n = 1
            while lo + n < rows {
                let stride = PrefillAnchorPlan.stride(t0: (firstTile + lo + n) * PrefillAnchorPlan.tile)
                if batch * kvHeads * (n + 1) * stride * 4 > scoreLimitBytes { break }
                n += 1
            }
            chunks.append(Chunk(tileLo: lo, tiles: n, stride: PrefillAnchorPlan.stride(t0: (firstTile + lo + n - 1) * PrefillAnchorPlan.tile)))
            lo += n
        }
        self.chunks = chunks
    }

    /// Default bound on the pooled-score scratch: 512 MiB (at 128k, 128 tiles of 8 KV heads per chunk,
    /// 1024 blocks per launch).
    public static let defaultScoreLimit = 512 << 20

    /// Score floats per row for a tile starting at `t0`: `t0` rounded up to 4 (at least 4).
    static func stride(t0: Int) -> Int { max(4, (t0 + 3) / 4 * 4) }

    /// Start position of selection row `r`.
    public func t0(row r: Int) -> Int { (firstTile + r) * PrefillAnchorPlan.tile }

    /// Keys selection row `r` keeps.
    public func keys(row r: Int) -> Int { budget.keys(outOf: t0(row: r)) }

    /// Bytes of the pooled-score scratch buffer: the largest chunk.
    public var scoreBytes: Int { chunks.map { batch * kvHeads * $0.tiles * $0.stride * 4 }.max() ?? 0 }

    /// Bytes of the selection that the anchor hands to its reuse layers: indices `[B, G, rows, capacity]`
    /// and counts `[B, G, rows]`, int32.
    public var selectionBytes: Int { batch * kvHeads * rows * (max(capacity, 1) + 1) * 4 }

    /// Selected keys over all rows, heads and sequences (before the diagonal blocks).
    public var selectedKeys: Int { batch * kvHeads * (0..<rows).reduce(0) { $0 + keys(row: $1) } }
}
