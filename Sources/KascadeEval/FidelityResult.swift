/// One line of the results file: next-token fidelity of one method on one natural text.
public struct FidelityResult: Codable, Hashable, Sendable {
    /// Always `"fidelity"`.
    public var kind = "fidelity"
    /// Name of the text (a licence document).
    public var text: String
    /// Method label.
    public var method: String
    /// First decoded position; positions before it are prefilled densely.
    public var start: Int
    /// True when the text was too short and nothing ran.
    public var skipped: Bool
    /// The sums over the text's positions.
    public var tally: FidelityTally

    /// Key of the (text, method) pair in a results file.
    public var key: String { Self.key(text: text, start: start, method: method) }

    /// Creates a result.
    public init(text: String, method: String, start: Int, skipped: Bool, tally: FidelityTally) {
        self.text = text
        self.method = method
        self.start = start
        self.skipped = skipped
        self.tally = tally
    }

    /// Key for a text, start and method label.
    public static func key(text: String, start: Int, method: String) -> String { "fidelity|\(text)|\(start)|\(method)" }
}
