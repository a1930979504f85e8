import Foundation

/// A method at a budget, e.g. `quest@0.10`; dense always has budget 1.
public struct MethodSpec: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The method.
    public let kind: MethodKind
    /// Fraction of the context read, in (0, 1].
    public let budget: Double

    /// Creates a spec; dense ignores `budget`.
    public init(_ kind: MethodKind, budget: Double) throws(EvalError) {
        guard budget.isFinite, budget > 0, budget <= 1 else { throw .badBudget(budget) }
        self.kind = kind
        self.budget = kind == .dense ? 1 : budget
    }

    /// Label used in results and tables: `dense` or `name@budget` (two decimals).
    public var label: String {
        kind == .dense ? "dense" : "\(kind.rawValue)@\(Self.format(budget))"
    }

    public var description: String { label }

    /// Budget with two decimals, e.g. `0.10`.
    public static func format(_ b: Double) -> String {
        let hundredths = Int((b * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }

    /// Parses a comma-separated method list into specs at each budget (dense once).
    public static func parse(methods: String, budgets: [Double]) throws(EvalError) -> [MethodSpec] {
        var out: [MethodSpec] = []
        for raw in methods.split(separator: ",") {
            let name = raw.trimmingCharacters(in: .whitespaces)
            guard let kind = MethodKind(rawValue: name) else { throw .unknownMethod(name) }
            for b in (kind == .dense ? [1.0] : budgets) {
                let spec = try MethodSpec(kind, budget: b)
                if !out.contains(spec) { out.append(spec) }
            }
        }
        return out
    }
}
