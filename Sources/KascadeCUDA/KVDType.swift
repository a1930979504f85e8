/// Element type of queries, keys and values on the GPU.
public enum KVDType: String, CaseIterable, Sendable, Codable {
    /// bfloat16.
    case bf16
    /// IEEE half.
    case fp16
}
