/// A token counter that counts whitespace-separated words: fast and model-free, for tests.
public struct WordTokenCounter: TokenCounter {
    /// Creates the counter.
    public init() {}

    /// Words of `text`.
    public func count(_ text: String) -> Int {
        var n = 0
        var inWord = false
        for u in text.utf8 {
            let space = u == 0x20 || u == 0x0A || u == 0x09 || u == 0x0D
            if !space && !inWord { n += 1 }
            inWord = !space
        }
        return n
    }
}
