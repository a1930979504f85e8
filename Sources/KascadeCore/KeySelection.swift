/// Selected key positions per KV head and per row: a row is one query (decode) or one tile of
/// queries (prefill). Layout `[heads, rows, capacity]` int32, rows padded with `-1`; `counts`
/// `[heads, rows]` says how many entries of each row are valid (always a prefix).
public struct KeySelection: Sendable, Equatable {
    /// Index sets per row: `G`, or 1 when one set is shared by all KV heads (Kascade `pooled`).
    public private(set) var heads: Int
    /// Rows: queries (decode) or tiles (prefill).
    public private(set) var rows: Int
    /// Slots per row.
    public private(set) var capacity: Int
    /// Positions, `[heads, rows, capacity]`, `-1` after the valid prefix.
    public var indices: [Int32]
    /// Valid entries per row, `[heads, rows]`.
    public var counts: [Int32]

    /// An empty selection (every row has count 0).
    public init(heads: Int, rows: Int, capacity: Int) {
        precondition(heads >= 0 && rows >= 0 && capacity >= 0)
        self.heads = heads
        self.rows = rows
        self.capacity = capacity
        indices = [Int32](repeating: -1, count: heads * rows * capacity)
        counts = [Int32](repeating: 0, count: heads * rows)
    }

    /// Resizes to `[heads, rows, capacity]`, all rows empty, reusing the storage when it is large enough.
    public mutating func reshape(heads: Int, rows: Int, capacity: Int) {
        self.heads = heads
        self.rows = rows
        self.capacity = capacity
        indices.removeAll(keepingCapacity: true)
        indices.append(contentsOf: repeatElement(-1, count: heads * rows * capacity))
        counts.removeAll(keepingCapacity: true)
        counts.append(contentsOf: repeatElement(0, count: heads * rows))
    }

    /// Valid positions of `(head, row)`.
    public func positions(head: Int, row: Int) -> ArraySlice<Int32> {
        let base = (head * rows + row) * capacity
        return indices[base ..< base + Int(counts[head * rows + row])]
    }

    /// Replaces the positions of `(head, row)` (at most `capacity`).
    public mutating func set(head: Int, row: Int, _ positions: [Int32]) {
        precondition(positions.count <= capacity, "\(positions.count) positions exceed capacity \(capacity)")
        let base = (head * rows + row) * capacity
        for i in 0..<capacity { indices[base + i] = i < positions.count ? positions[i] : -1 }
        counts[head * rows + row] = Int32(positions.count)
    }

    /// Reads an index tensor `[G, rows, k]` (one batch entry), `-1` marking unused slots anywhere in a
    /// row; each row's valid positions are compacted to a prefix.
    public init(tensor: UnsafeBufferPointer<Int32>, heads: Int, rows: Int, capacity: Int) {
        precondition(tensor.count == heads * rows * capacity)
        self.init(heads: heads, rows: rows, capacity: capacity)
        for hr in 0..<(heads * rows) {
            var n = 0
            for i in 0..<capacity where tensor[hr * capacity + i] >= 0 {
                indices[hr * capacity + n] = tensor[hr * capacity + i]
                n += 1
            }
            counts[hr] = Int32(n)
        }
    }
}
