/// Errors loading, saving or validating a Kascade schedule; each carries the offending value.
public enum KascadeScheduleError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read or written.
    case io(path: String, reason: String)
    /// The JSON does not decode to a schedule.
    case malformed(path: String, reason: String)
    /// The fields disagree (anchors, head maps, budget, tile).
    case invalid(String)

    public var description: String {
        switch self {
        case .io(let p, let r): return "cannot access schedule \(p): \(r)"
        case .malformed(let p, let r): return "malformed schedule \(p): \(r)"
        case .invalid(let s): return "invalid schedule: \(s)"
        }
    }
}
