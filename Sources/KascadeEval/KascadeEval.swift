/// Long-context tasks, fidelity metrics and accuracy reports.
public enum KascadeEvalInfo {
    /// Version of the report format.
    public static let reportVersion = 1
}
