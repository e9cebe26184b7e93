import Foundation

/// A configuration value that is not allowed: the process stops with exit code 78 and this
/// one line, before it does anything.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The variable, e.g. `EXIT_EXECUTOR_MODE`.
    public let variable: String
    /// The value given (secrets masked).
    public let value: String
    /// What is allowed.
    public let allowed: String

    /// An error for one variable.
    public init(variable: String, value: String, allowed: String) {
        self.variable = variable
        self.value = value
        self.allowed = allowed
    }

    /// `configuration error: EXIT_EXECUTOR_MODE="FAST" is not allowed; allowed: LIVE, SHADOW`.
    public var description: String {
        "configuration error: \(variable)=\"\(value)\" is not allowed; allowed: \(allowed)"
    }

    /// The exit code for configuration errors (EX_CONFIG).
    public static let exitCode: Int32 = 78
}

/// Reads typed values from an environment dictionary (flags already merged in).
public struct EnvironmentReader: Sendable {
    /// The variables.
    public let values: [String: String]

    /// A reader over `values`.
    public init(_ values: [String: String]) { self.values = values }

    /// A string, or the default when unset or empty.
    public func string(_ name: String, default d: String) -> String {
        guard let v = values[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return d }
        return v
    }

    /// An optional string (nil when unset or empty).
    public func optional(_ name: String) -> String? {
        guard let v = values[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        return v
    }

    /// One of a set of words, case-insensitive.
    public func word<W: RawRepresentable & CaseIterable>(_ name: String, default d: W) throws(ConfigurationError) -> W where W.RawValue == String {
        guard let raw = optional(name) else { return d }
        if let w = W.allCases.first(where: { $0.rawValue.caseInsensitiveCompare(raw) == .orderedSame }) { return w }
        throw ConfigurationError(variable: name, value: raw, allowed: W.allCases.map(\.rawValue).joined(separator: ", "))
    }

    /// `true`/`false` (also 1/0, yes/no).
    public func bool(_ name: String, default d: Bool) throws(ConfigurationError) -> Bool {
        guard let raw = optional(name) else { return d }
        switch raw.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationError(variable: name, value: raw, allowed: "true, false")
        }
    }

    /// A whole number in a range.
    public func int(_ name: String, default d: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let raw = optional(name) else { return d }
        guard let v = Int(raw), range.contains(v) else {
            throw ConfigurationError(variable: name, value: raw, allowed: "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return v
    }

    /// A number in a range.
    public func double(_ name: String, default d: Double, range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard let raw = optional(name) else { return d }
        guard let v = Double(raw), v.isFinite, range.contains(v) else {
            throw ConfigurationError(variable: name, value: raw, allowed: "a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return v
    }
}
