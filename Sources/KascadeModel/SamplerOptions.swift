/// How the next token is drawn from the logits.
public struct SamplerOptions: Sendable, Hashable, Codable {
    /// Softmax temperature; 0 means greedy (argmax, lowest id on ties).
    public var temperature: Float = 0
    /// Keep only the `topK` most likely tokens (0 = all).
    public var topK: Int = 0
    /// Keep the smallest set of most likely tokens whose probability reaches `topP` (1 = all).
    public var topP: Float = 1
    /// Seed of the random generator; equal seeds give equal draws.
    public var seed: UInt64 = 0

    /// Greedy by default.
    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }
}
