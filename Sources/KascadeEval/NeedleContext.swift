/// Builds a context of about `target` tokens: seeded filler sentences with needles planted at
/// chosen depths (fractions of the filler's tokens), joined by single spaces.
///
/// Sentence token counts are summed to size the filler; the joined text is then counted once and
/// trailing filler is dropped until it fits, so the context never exceeds `target` tokens.
public struct NeedleContext {
    /// A needle sentence and its depth in [0, 1].
    public struct Needle {
        /// Sentence to plant.
        public var text: String
        /// Relative position in the filler, 0 = start, 1 = end.
        public var depth: Double
        /// Creates a needle.
        public init(text: String, depth: Double) { self.text = text; self.depth = depth }
    }

    /// Joins filler and needles into one text of at most `target` tokens under `counter`.
    public static func build(target: Int, needles: [Needle], filler: inout FillerText,
                             counter: any TokenCounter) -> String {
        let needleTokens = needles.reduce(0) { $0 + counter.count($1.text) + 1 }
        var sentences: [String] = []
        var cumulative: [Int] = []          // tokens of filler before sentence i
        var total = 0
        while total + needleTokens < target {
            let s = filler.nextSentence()
            cumulative.append(total)
            sentences.append(s)
            total += counter.count(s)
        }
        // Needle i goes before the first sentence whose start reaches depth * total.
        let ordered = needles.enumerated().sorted { ($0.element.depth, $0.offset) < ($1.element.depth, $1.offset) }
        let slots: [(at: Int, text: String)] = ordered.map { pair in
            let want = Int((pair.element.depth * Double(total)).rounded())
            let at = cumulative.firstIndex(where: { $0 >= want }) ?? sentences.count
            return (at, pair.element.text)
        }
        func join(_ fillerCount: Int) -> String {
            var parts: [String] = []
            parts.reserveCapacity(fillerCount + slots.count)
            var k = 0
            for i in 0...fillerCount {
                while k < slots.count && min(slots[k].at, fillerCount) == i { parts.append(slots[k].text); k += 1 }
                if i < fillerCount { parts.append(sentences[i]) }
            }
            return parts.joined(separator: " ")
        }
        var keep = sentences.count
        var text = join(keep)
        var measured = counter.count(text)
        while measured > target && keep > 0 {
            keep -= 1
            measured -= counter.count(sentences[keep])
            if measured <= target { text = join(keep); measured = counter.count(text) }
        }
        return text
    }
}
