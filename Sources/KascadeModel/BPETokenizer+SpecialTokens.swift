extension BPETokenizer {
    /// Finds control and user-defined tokens (`<|im_start|>`, `<|endoftext|>`, ...) written in
    /// text: at each position the longest special token that starts there, scanning left to right.
    struct SpecialTokenMatcher: Sendable {
        /// Candidates by first scalar, longest first.
        private let byFirstScalar: [Unicode.Scalar: [(scalars: [Unicode.Scalar], id: Int32)]]

        /// Matcher for `tokens` (text, id); empty texts are ignored.
        init(_ tokens: [(text: String, id: Int32)]) {
            var table: [Unicode.Scalar: [(scalars: [Unicode.Scalar], id: Int32)]] = [:]
            for token in tokens {
                let scalars = Array(token.text.unicodeScalars)
                guard let first = scalars.first else { continue }
                table[first, default: []].append((scalars, token.id))
            }
            for key in table.keys {
                table[key]!.sort { $0.scalars.count != $1.scalars.count ? $0.scalars.count > $1.scalars.count : $0.id < $1.id }
            }
            byFirstScalar = table
        }

        /// Whether there is nothing to match.
        var isEmpty: Bool { byFirstScalar.isEmpty }

        /// The longest special token at `text[position...]`: its length in scalars and its id.
        @inline(__always)
        func match(_ text: [Unicode.Scalar], at position: Int) -> (length: Int, id: Int32)? {
            guard let candidates = byFirstScalar[text[position]] else { return nil }
            for candidate in candidates where position + candidate.scalars.count <= text.count {
                var equal = true
                for (offset, scalar) in candidate.scalars.enumerated() where text[position + offset] != scalar {
                    equal = false
                    break
                }
                if equal { return (candidate.scalars.count, candidate.id) }
            }
            return nil
        }
    }
}
