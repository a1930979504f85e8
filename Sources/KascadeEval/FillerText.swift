/// Seeded filler prose without digits: varied sentences built from small word lists, so a planted
/// number or key is the only one of its kind in the context.
public struct FillerText {
    private var rng: SeededGenerator

    /// A filler stream for `seed` and `label`.
    public init(seed: UInt64, label: String) {
        rng = SeededGenerator(seed: seed, label: "filler/" + label)
    }

    private static let subjects = [
        "The old miller", "A quiet river", "The morning train", "Every gardener", "The northern wind",
        "A tired traveller", "The village baker", "The library clock", "A small boat", "The red fox",
        "Our neighbour", "The harbour master", "A curious child", "The mountain road", "The evening choir",
        "The stone bridge", "A patient teacher", "The market square", "The lighthouse keeper", "A wandering poet",
    ]
    private static let verbs = [
        "walked past", "looked at", "waited near", "spoke about", "remembered", "painted", "followed",
        "circled", "forgot about", "returned to", "described", "admired", "passed by", "dreamed of",
        "wrote a letter about", "sang softly to", "cleaned", "measured", "visited", "argued about",
    ]
    private static let objects = [
        "the green hills", "the broken fence", "a basket of apples", "the long corridor", "the frozen lake",
        "an empty chair", "the summer fields", "the narrow lane", "a pile of old books", "the silver moon",
        "the dusty attic", "a field of barley", "the quiet chapel", "the wooden gate", "the crowded inn",
        "the distant islands", "a bowl of soup", "the autumn leaves", "the shepherd's hut", "the tall pines",
    ]
    private static let endings = [
        "before the rain began", "while the bells were ringing", "as the sun went down", "without a word",
        "for most of the afternoon", "under a grey sky", "with great care", "once again", "in the early light",
        "after the long winter", "as the tide came in", "with a faint smile", "late into the night",
        "despite the cold", "on the way home", "as everyone expected",
    ]

    /// The next sentence, ending with a full stop.
    public mutating func nextSentence() -> String {
        let s = Self.subjects.randomElement(using: &rng)!
        let v = Self.verbs.randomElement(using: &rng)!
        let o = Self.objects.randomElement(using: &rng)!
        let e = Self.endings.randomElement(using: &rng)!
        return "\(s) \(v) \(o) \(e)."
    }
}
