import BinanceProtocol
import Venue

/// Binance's answers as ``VenueError``s: the caller's action follows from the case.
enum BinanceErrors {
    /// The error for an answer with Binance's `code` and `msg`, on a request that may have
    /// changed something (`placing`) or not.
    static func venueError(code: Int, message: String, clientOrderId: String?) -> VenueError {
        switch BinanceCode(rawValue: code) {
        case .wouldImmediatelyTrigger: return .wouldTriggerImmediately(message: message)
        case .reduceOnlyRejected, .reduceOnlyMarginCheckFailed: return .reduceOnlyRefused(code: code, message: message)
        case .tooManyRequests: return .rateLimited(retryAfter: nil)
        case .timeout, .unknown, .disconnected: return .unknownOutcome(message: "(\(code)) \(message)")
        case .noSuchOrder, .cancelRejected: return .notFound(clientOrderId: clientOrderId ?? "")
        default: return .refused(code: code, message: message)
        }
    }

    /// True for the codes that mean the key itself is refused (health DOWN).
    static func refusesKey(_ code: Int) -> Bool {
        code == BinanceCode.rejectedMBXKey.rawValue || code == BinanceCode.badAPIKeyFormat.rawValue
            || code == BinanceCode.invalidSignature.rawValue
    }
}
