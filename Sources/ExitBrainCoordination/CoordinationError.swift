import ExitBrainDomain
import RedisClient

/// What went wrong in the coordination layer, with a message a person can act on.
public struct CoordinationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable {
        /// A configuration value is not allowed.
        case invalidConfiguration
        /// Redis could not be reached or refused a command.
        case redis
        /// A stored value is not what the contract says.
        case corruptRecord
        /// A compare-and-set found another version.
        case conflict
        /// The record does not exist (any more).
        case notFound
        /// A domain rule refused the value.
        case domain
        /// A write under a bucket lease this instance no longer holds (docs/contract.md §12).
        case fenced
    }

    /// The kind.
    public let code: Code
    /// The message.
    public let message: String

    /// An error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Wraps a Redis failure.
    public init(_ error: RedisError) { self.init(.redis, error.description) }

    /// Wraps a domain failure.
    public init(_ error: DomainError) { self.init(.domain, error.description) }

    /// `code: message`.
    public var description: String { "\(code.rawValue): \(message)" }
}
