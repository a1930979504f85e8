extension BPETokenizer {
    /// Binary min-heap of packed merge candidates `rank << 32 | position`: lowest rank first,
    /// leftmost position among equal ranks. Storage is kept between uses.
    struct RankHeap {
        private var items: [UInt64] = []

        /// Empties the heap, keeping its storage.
        mutating func removeAll() { items.removeAll(keepingCapacity: true) }

        /// Adds a candidate.
        mutating func push(rank: UInt32, position: Int) {
            items.append(UInt64(rank) << 32 | UInt64(UInt32(position)))
            var child = items.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                if items[parent] <= items[child] { break }
                items.swapAt(parent, child)
                child = parent
            }
        }

        /// Removes and returns the candidate with the lowest rank (leftmost on ties).
        mutating func pop() -> (rank: UInt32, position: Int)? {
            guard let top = items.first else { return nil }
            let last = items.removeLast()
            if !items.isEmpty {
                items[0] = last
                var parent = 0
                while true {
                    let left = 2 * parent + 1
                    if left >= items.count { break }
                    let right = left + 1
                    let child = right < items.count && items[right] < items[left] ? right : left
                    if items[parent] <= items[child] { break }
                    items.swapAt(parent, child)
                    parent = child
                }
            }
            return (UInt32(truncatingIfNeeded: top >> 32), Int(UInt32(truncatingIfNeeded: top)))
        }
    }
}
