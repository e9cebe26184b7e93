/// The one error type of the ExitBrain domain module.
///
/// `code` is stable and machine-readable (it ends up in metrics labels and rejection events);
/// `message` is written for a person and names the field, the value and what is allowed.
public struct DomainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem the input has.
    public enum Code: String, Sendable, Equatable {
        /// A value is out of range, not finite, or otherwise unusable.
        case invalidValue = "INVALID_VALUE"
        /// A `_pct` value of 1 or more: fractions are expected (`0.015` = 1.5 %).
        case fractionExpected = "FRACTION_EXPECTED"
        /// An object carries a key this module does not read.
        case unknownKey = "UNKNOWN_KEY"
        /// A required field is absent.
        case missingField = "MISSING_FIELD"
        /// A word (side, kind, status, mode …) is not one of the allowed words.
        case unknownWord = "UNKNOWN_WORD"
        /// The bytes are not JSON of the expected shape.
        case invalidJSON = "INVALID_JSON"
        /// The operation does not fit the plan or position it was given.
        case mismatch = "MISMATCH"
    }

    /// Machine-readable category of the error.
    public let code: Code
    /// Human-readable explanation naming the field, the value and what is allowed.
    public let message: String

    /// Creates an error with a code and a message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `"CODE: message"`.
    public var description: String { "\(code.rawValue): \(message)" }
}

extension DomainError {
    static func invalid(_ field: String, _ value: Double, _ rule: String) -> DomainError {
        DomainError(.invalidValue, "\(field) = \(value): \(rule)")
    }

    static func unknownWord(_ field: String, _ value: String, allowed: [String]) -> DomainError {
        DomainError(.unknownWord, "\(field) = \"\(value)\" is not allowed; allowed: \(allowed.joined(separator: ", "))")
    }

    static func missing(_ field: String) -> DomainError {
        DomainError(.missingField, "\(field) is required")
    }
}
