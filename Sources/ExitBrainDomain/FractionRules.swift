// Validation of `_pct` fractions and other bounded numbers (docs/contract.md §3: a `_pct` of 1 or more
// is rejected with an error that says fractions are expected).

enum FractionRules {
    static let fractionHint = "fractions expected (0.015 = 1.5 %)"

    /// A `_pct` that must be finite, > 0 and < 1.
    static func positiveFraction(_ value: Double?, _ field: String) throws(DomainError) {
        guard let value else { return }
        guard value.isFinite else { throw .invalid(field, value, "must be a finite number") }
        guard value < 1 else {
            throw DomainError(.fractionExpected, "\(field) = \(value): \(fractionHint)")
        }
        guard value > 0 else { throw .invalid(field, value, "must be greater than 0; \(fractionHint)") }
    }

    /// A finite value inside a closed range.
    static func inRange(_ value: Double?, _ field: String, _ range: ClosedRange<Double>) throws(DomainError) {
        guard let value else { return }
        guard value.isFinite, range.contains(value) else {
            throw .invalid(field, value, "must be between \(range.lowerBound) and \(range.upperBound)")
        }
    }

    /// A finite, strictly positive value (prices, quantities, leverage).
    static func positive(_ value: Double, _ field: String) throws(DomainError) {
        guard value.isFinite, value > 0 else {
            throw .invalid(field, value, "must be a finite number greater than 0")
        }
    }
}
