/// What a venue answered instead of doing what was asked, typed so that the caller's action is
/// a `switch`, with the venue's own code and words kept for the record and the operator.
public enum VenueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Refused outright (bad parameters, filters, insufficient margin…): the venue's code and words.
    case refused(code: Int, message: String)
    /// A conditional order whose trigger is already crossed (Binance -2021): exit at market instead.
    case wouldTriggerImmediately(message: String)
    /// A reduce-only order refused because the position is smaller or gone (-2022, -4118):
    /// read the position again; never retry blindly.
    case reduceOnlyRefused(code: Int, message: String)
    /// Too many requests (HTTP 429, -1003): back off; `retryAfter` seconds when the venue said.
    case rateLimited(retryAfter: Double?)
    /// Banned for sending on after rate limits (HTTP 418) until the venue's time `until`.
    case banned(untilMilliseconds: Int64?)
    /// Sent, and no answer (timeout, 503, -1007, a dropped connection): the order may exist.
    /// Resolved by querying with the same client id, never by sending again.
    case unknownOutcome(message: String)
    /// The venue does not know this order (-2013 on query, -2011 on cancel). Right after a
    /// send this is not proof of absence.
    case notFound(clientOrderId: String)
    /// The venue could not be reached at all (nothing was sent).
    case unreachable(message: String)

    /// One line for logs and records.
    public var description: String {
        switch self {
        case .refused(let code, let message): "refused (\(code)): \(message)"
        case .wouldTriggerImmediately(let message): "would trigger immediately: \(message)"
        case .reduceOnlyRefused(let code, let message): "reduce-only refused (\(code)): \(message)"
        case .rateLimited(let after): "rate limited\(after.map { ", retry after \($0) s" } ?? "")"
        case .banned(let until): "banned\(until.map { " until \($0)" } ?? "")"
        case .unknownOutcome(let message): "unknown outcome: \(message)"
        case .notFound(let id): "order \(id) not found"
        case .unreachable(let message): "unreachable: \(message)"
        }
    }

    /// The venue's code, where it gave one.
    public var code: Int? {
        switch self {
        case .refused(let code, _), .reduceOnlyRefused(let code, _): code
        case .wouldTriggerImmediately: -2021
        case .rateLimited: -1003
        case .notFound: -2013
        default: nil
        }
    }
}
