/// Where an order is in its life (docs/contract.md §11).
public enum OrderStatus: String, Codable, Sendable, CaseIterable {
    /// Written with the plan change that asks for it, before the request leaves.
    case intent = "INTENT"
    /// Sent and not answered: resolved by querying with the same client id, never by sending again.
    case unknown = "UNKNOWN"
    /// Accepted and working (resting, for a conditional order).
    case new = "NEW"
    /// Partly filled, still working.
    case partiallyFilled = "PARTIALLY_FILLED"
    /// Filled.
    case filled = "FILLED"
    /// Cancelled (by ExitBrain, or by the venue).
    case canceled = "CANCELED"
    /// Refused by the venue.
    case rejected = "REJECTED"
    /// Expired at the venue.
    case expired = "EXPIRED"

    /// No further change can happen.
    public var isFinal: Bool {
        switch self {
        case .filled, .canceled, .rejected, .expired: true
        case .intent, .unknown, .new, .partiallyFilled: false
        }
    }

    /// The venue may have the order (working, or not known to be absent).
    public var mayBeWorking: Bool { !isFinal }
}
