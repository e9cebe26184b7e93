/// What went wrong talking to Redis, with a message a person can act on.
public struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable {
        /// The URL could not be parsed.
        case invalidURL
        /// Nothing listens at the address.
        case connectionRefused
        /// The server closed the connection.
        case connectionClosed
        /// The connection is down and the next reconnect attempt is not due yet.
        case connectionDown
        /// AUTH was refused.
        case authFailed
        /// The server did not answer within the command timeout.
        case timeout
        /// The server answered with an error reply.
        case server
        /// The reply was not what the command promises.
        case unexpectedReply
        /// Another socket or protocol failure.
        case io
        /// The client was closed by its owner.
        case closed
        /// A transaction was aborted (a watched key changed).
        case transactionAborted
    }

    /// The kind of failure.
    public let code: Code
    /// What happened, for a person.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code.rawValue): \(message)" }

    /// True for failures of the connection (as opposed to a refused command).
    public var isConnectionFailure: Bool {
        switch code {
        case .connectionRefused, .connectionClosed, .connectionDown, .timeout, .io, .authFailed: true
        default: false
        }
    }
}
