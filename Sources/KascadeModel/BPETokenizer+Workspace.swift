extension BPETokenizer {
    /// Scratch storage for `MergeTable.apply`, reused across pieces of one encoding.
    struct Workspace {
        /// Index of the next live symbol (`-1`: none).
        var next: [Int32] = []
        /// Index of the previous live symbol (`-1`: none).
        var previous: [Int32] = []
        /// Pending merge candidates.
        var heap = RankHeap()
        /// Token ids of the piece being encoded.
        var symbols: [Int32] = []

        /// Links `count` symbols in order and empties the heap.
        mutating func reset(count: Int) {
            next.removeAll(keepingCapacity: true)
            previous.removeAll(keepingCapacity: true)
            for i in 0 ..< count {
                next.append(i + 1 < count ? Int32(i + 1) : -1)
                previous.append(Int32(i - 1))
            }
            heap.removeAll()
        }
    }
}
