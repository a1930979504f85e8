extension InferenceSession {
    /// Forgets every token after the first `count` (`0 ... position`), so the next append writes
    /// position `count`; the cached keys and values of the first `count` tokens are kept and the
    /// policy is reset.
    ///
    /// Lets one prefill serve several continuations (the demo decodes the same prompt with dense
    /// attention and with Kascade). Policies whose state summarises cached positions (Quest's page
    /// bounds) lose it with the reset, so use it with policies that keep no such state (dense, Kascade).
    public func rewind(to count: Int) {
        precondition(count >= 0 && count <= position, "rewind to \(count) with \(position) tokens cached")
        position = count
        policy.reset()
    }
}
