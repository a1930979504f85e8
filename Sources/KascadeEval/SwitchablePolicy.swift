import KascadeCore

/// An attention policy that forwards every call to a policy that can be changed between calls.
///
/// An `InferenceSession` keeps one policy for its life; the evaluation prefills a prompt with dense
/// attention through this wrapper, then switches to a decode-only method (Quest, Twilight,
/// vAttention) for the answer, so the prompt's KV cache is computed once and shared.
public final class SwitchablePolicy: AttentionPolicy {
    /// The policy calls go to.
    public var current: AttentionPolicy

    /// Starts by forwarding to `initial`.
    public init(_ initial: AttentionPolicy) { current = initial }

    /// The current policy's name.
    public var name: String { current.name }
    /// The current policy's counters.
    public var stats: AttentionStats { current.stats }
    /// Resets the current policy.
    public func reset() { current.reset() }

    /// Forwards to the current policy.
    public func attend(layer: Int, queries: UnsafePointer<Float>, queryCount: Int,
                       kv: KVCacheView, output: UnsafeMutablePointer<Float>) throws {
        try current.attend(layer: layer, queries: queries, queryCount: queryCount, kv: kv, output: output)
    }
}
