extension BPETokenizer {
    /// Ranked merge rules `(left, right) -> merged`, and byte-pair encoding of one piece with them.
    struct MergeTable: Sendable {
        /// `left << 32 | right` -> `rank << 32 | merged`.
        private let rules: [UInt64: UInt64]

        /// Number of rules.
        var count: Int { rules.count }

        /// Rules in rank order (index = rank); a repeated pair keeps its first, lowest rank.
        init(ranked pairs: [(left: Int32, right: Int32, merged: Int32)]) {
            var rules: [UInt64: UInt64] = [:]
            rules.reserveCapacity(pairs.count)
            for (rank, pair) in pairs.enumerated() {
                let key = Self.key(pair.left, pair.right)
                if rules[key] == nil { rules[key] = UInt64(rank) << 32 | UInt64(UInt32(pair.merged)) }
            }
            self.rules = rules
        }

        /// The rule for the adjacent pair `(left, right)`, if any.
        @inline(__always)
        func rule(_ left: Int32, _ right: Int32) -> (rank: UInt32, merged: Int32)? {
            guard let packed = rules[Self.key(left, right)] else { return nil }
            return (UInt32(truncatingIfNeeded: packed >> 32), Int32(truncatingIfNeeded: packed & 0xFFFF_FFFF))
        }

        /// Merges `symbols` (token ids, left to right) in place until no rule applies: always the
        /// lowest-ranked applicable pair, the leftmost among equals (a rank heap over a linked list).
        func apply(to symbols: inout [Int32], workspace: inout Workspace) {
            let n = symbols.count
            guard n > 1 else { return }
            workspace.reset(count: n)
            for i in 0 ..< n - 1 {
                if let r = rule(symbols[i], symbols[i + 1]) { workspace.heap.push(rank: r.rank, position: i) }
            }
            var merged = 0
            while let candidate = workspace.heap.pop() {
                let i = candidate.position
                let left = symbols[i]
                guard left >= 0 else { continue }
                let j = Int(workspace.next[i])
                guard j >= 0, let r = rule(left, symbols[j]), r.rank == candidate.rank else { continue }
                symbols[i] = r.merged
                symbols[j] = -1
                merged += 1
                let after = workspace.next[j]
                workspace.next[i] = after
                if after >= 0 {
                    workspace.previous[Int(after)] = Int32(i)
                    if let q = rule(r.merged, symbols[Int(after)]) { workspace.heap.push(rank: q.rank, position: i) }
                }
                let before = Int(workspace.previous[i])
                if before >= 0, let p = rule(symbols[before], r.merged) {
                    workspace.heap.push(rank: p.rank, position: before)
                }
            }
            if merged > 0 { symbols.removeAll { $0 < 0 } }
        }

        private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
            UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        }
    }
}
