/// Exact attention over per-KV-head key lists (the sparse step of Kascade's anchor and reuse layers).
///
/// Two layouts of the selection rows:
/// - **decode** (`tile == nil`): row `t` belongs to query `t` (or row 0 to every query when the
///   selection has one row); the query attends to exactly its row's keys.
/// - **prefill** (`tile` set, causal, bottom-right aligned): query `t` sits at absolute position
///   `p = N - T + t` in the tile starting at `t0 = (p / tile) * tile`; row `p / tile - (N - T) / tile`
///   holds that tile's keys, all `< t0`, and the query also attends to its own diagonal block,
///   keys `t0 ... p` (causal inside the block).
///
/// The softmax is renormalised over the keys read. `headMap[g]` names the selection head that KV head
/// `g` reads (ignored when the selection has one head).
public enum SparseAttention {
    /// Computes the output `[H, T, d]` from queries `[H, T, d]`; returns the keys read (summed over
    /// query heads and queries). Indices are trusted to be valid (see ``validate(_:queryCount:kv:tile:)``).
    @discardableResult
    public static func compute(queries: UnsafePointer<Float>, queryCount T: Int, kv: KVCacheView,
                               selection: KeySelection, headMap: [Int]? = nil, tile: Int? = nil,
                               output: UnsafeMutablePointer<Float>,
                               workspace: AttentionWorkspace, workers: Int = ProcessInfoCores.count) -> Double {
        let N = kv.length
        let rows = selection.rows, cap = selection.capacity
        let shared = selection.heads == 1
        return selection.indices.withUnsafeBufferPointer { idx in
            selection.counts.withUnsafeBufferPointer { counts in
                AttentionEngine.run(queries: queries, queryCount: T, kv: kv, workspace: workspace,
                                    workers: workers, output: output) { g, t in
                    let head = shared ? 0 : (headMap?[g] ?? g)
                    if let tile {
                        let p = N - T + t
                        let row = p / tile - (N - T) / tile
                        let hr = head * rows + row
                        return AttentionEngine.KeySet(indices: idx.baseAddress! + hr * cap, indexCount: Int(counts[hr]),
                                                      lo: (p / tile) * tile, hi: p + 1)
                    }
                    let hr = head * rows + (rows == 1 ? 0 : t)
                    return AttentionEngine.KeySet(indices: idx.baseAddress! + hr * cap, indexCount: Int(counts[hr]),
                                                  lo: 0, hi: 0)
                }
            }
        }
    }

    /// Rows a selection needs: `T` (decode; 1 also accepted) or the tiles covered by the last `T` of `N`.
    public static func tileRows(queryCount T: Int, length N: Int, tile: Int) -> Int {
        T == 0 ? 0 : (N - 1) / tile - (N - T) / tile + 1
    }

    /// Checks a selection against a layer: row count, positions in range (decode: `< N`; prefill:
    /// `< t0` of the row's tile), no duplicates in a row.
    public static func validate(_ selection: KeySelection, queryCount T: Int, kv: KVCacheView,
                                tile: Int?, headMap: [Int]? = nil) throws(AttentionError) {
        let N = kv.length, G = kv.geometry.kvHeads
        guard selection.heads == 1 || selection.heads == G else {
            throw .badIndices("index sets for \(selection.heads) heads, layer has \(G) KV heads")
        }
        if let map = headMap {
            guard map.count == G, map.allSatisfy({ $0 >= 0 && $0 < selection.heads }) else {
                throw .badIndices("head map \(map) does not map \(G) heads into \(selection.heads)")
            }
        }
        let firstTile = tile.map { (N - T) / $0 } ?? 0
        let wantRows = tile.map { tileRows(queryCount: T, length: N, tile: $0) } ?? T
        guard selection.rows == wantRows || (tile == nil && selection.rows == 1) else {
            throw .badIndices("\(selection.rows) index rows, expected \(wantRows) (\(tile == nil ? "one per query" : "one per tile"))")
        }
        var seen = [Bool](repeating: false, count: N)
        for h in 0..<selection.heads {
            for row in 0..<selection.rows {
                let limit = tile.map { (firstTile + row) * $0 } ?? N
                let list = selection.positions(head: h, row: row)
                defer { for p in list where p >= 0 && Int(p) < N { seen[Int(p)] = false } }
                for p in list {
                    guard p >= 0, Int(p) < limit else {
                        throw .badIndices("position \(p) in head \(h) row \(row) is outside 0 ..< \(limit)")
                    }
                    guard !seen[Int(p)] else { throw .badIndices("position \(p) repeats in head \(h) row \(row)") }
                    seen[Int(p)] = true
                }
            }
        }
    }
}
