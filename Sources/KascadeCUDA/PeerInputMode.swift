/// How the peer benchmark generates its inputs.
public enum PeerInputMode: String, Codable, Sendable, CaseIterable {
    /// I.i.d. uniform queries and keys: flat attention.
    case random
    /// Heavy keys aligned with a direction the group's queries share: peaked attention (see
    /// ``PeerDecodeKernels/addPeakedKeys(_:rows:length:batch:seed:c:rate:stream:)``).
    case peaked
}
