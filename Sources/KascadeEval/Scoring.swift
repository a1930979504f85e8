/// Scoring of generated answers against expected ones.
///
/// Both rules compare normalised text: lower-cased, runs of whitespace collapsed to one space,
/// trimmed. `exactMatch` also ignores surrounding quotes and punctuation (`"68231."` matches `68231`).
/// The evaluation counts an item correct by `contains` (the rule: the answer appears in what
/// the model generated); `exactMatch` is reported beside it.
public enum Scoring {
    /// Lower-cased, whitespace-collapsed, trimmed text.
    public static func normalize(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        var pendingSpace = false
        for ch in s.lowercased() {
            if ch.isWhitespace {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(ch)
            }
        }
        return out
    }

    /// Whether the normalised `generated` contains the normalised `answer` (an empty answer never matches).
    public static func contains(_ generated: String, answer: String) -> Bool {
        let a = normalize(answer)
        guard !a.isEmpty else { return false }
        return normalize(generated).contains(a)
    }

    /// Whether the generated text, normalised and stripped of surrounding quotes and punctuation, equals the answer.
    public static func exactMatch(_ generated: String, answer: String) -> Bool {
        let a = strip(normalize(answer))
        guard !a.isEmpty else { return false }
        return strip(normalize(generated)) == a
    }

    /// Non-overlapping occurrences of `needle` in `haystack`, exact (not normalised).
    public static func occurrences(of needle: String, in haystack: String) -> Int {
        guard !needle.isEmpty else { return 0 }
        let h = Array(haystack.utf8), n = Array(needle.utf8)
        guard h.count >= n.count else { return 0 }
        var count = 0
        var i = 0
        while i <= h.count - n.count {
            var j = 0
            while j < n.count && h[i + j] == n[j] { j += 1 }
            if j == n.count { count += 1; i += n.count } else { i += 1 }
        }
        return count
    }

    private static func strip(_ s: String) -> String {
        let junk: Set<Character> = ["\"", "'", ".", ",", ";", ":", "!", "?", "`", "(", ")", "[", "]"]
        var t = Substring(s)
        while let f = t.first, junk.contains(f) || f == " " { t = t.dropFirst() }
        while let l = t.last, junk.contains(l) || l == " " { t = t.dropLast() }
        return String(t)
    }
}
