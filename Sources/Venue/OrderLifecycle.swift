import ExitBrainDomain
import Foundation

/// What happened to an order, as far as its life goes.
public enum OrderUpdate: Sendable, Equatable {
    /// The request left; no answer yet (or none will come).
    case sentWithoutAnswer(reason: String)
    /// The venue acknowledged it (resting or working), with its ids.
    case accepted(venueOrderId: String?, venueAlgoId: String?)
    /// Filled up to `cumulative` (not the increment) at `averagePrice`.
    case filled(cumulative: Decimal, averagePrice: Decimal?, venueOrderId: String?)
    /// Cancelled (what filled stays filled).
    case canceled
    /// Refused by the venue, in its words.
    case rejected(code: Int?, message: String)
    /// Expired at the venue.
    case expired
}

/// A change an order's life does not allow.
public struct OrderTransitionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The order.
    public let clientOrderId: String
    /// Its status before.
    public let from: OrderStatus
    /// What was applied.
    public let update: OrderUpdate
    /// Why it cannot happen.
    public let reason: String

    /// One line.
    public var description: String { "order \(clientOrderId): \(from.rawValue) cannot take \(update): \(reason)" }
}

/// The order state machine: every change to an ``OrderRecord`` goes through ``apply(_:to:at:)``.
///
/// - `INTENT` → `UNKNOWN` (sent, no answer), `NEW`, `PARTIALLY_FILLED`, `FILLED`, `REJECTED`.
/// - `UNKNOWN` → whatever a query finds (`NEW`, fills, `CANCELED`, `REJECTED`, `EXPIRED`).
/// - `NEW` / `PARTIALLY_FILLED` → fills, `CANCELED`, `EXPIRED`; a late `accepted` adds ids.
/// - `FILLED`, `CANCELED`, `REJECTED`, `EXPIRED` are final; a repeat of the same final news is
///   no change (streams and queries repeat themselves), anything else is an error.
/// - Fills are cumulative: they never go down and never exceed the order's quantity. A fill
///   reported after a cancel or expiry is recorded (it happened before), the status stays.
public enum OrderLifecycle {
    /// The record after `update`, or why it cannot take it. Unchanged records come back equal.
    public static func apply(_ update: OrderUpdate, to record: OrderRecord, at: Date) throws(OrderTransitionError) -> OrderRecord {
        var next = record
        func refuse(_ reason: String) -> OrderTransitionError {
            OrderTransitionError(clientOrderId: record.clientOrderId, from: record.status, update: update, reason: reason)
        }
        switch update {
        case .sentWithoutAnswer(let reason):
            switch record.status {
            case .intent, .unknown: next.status = .unknown
            default: throw refuse("only an intent can be sent")
            }
            next.error = reason
        case .accepted(let orderId, let algoId):
            switch record.status {
            case .intent, .unknown: next.status = .new
            case .new, .partiallyFilled, .filled: break  // a late acknowledgement adds ids only
            case .canceled, .rejected, .expired: throw refuse("a \(record.status.rawValue) order is not accepted again")
            }
            next.venueOrderId = orderId ?? record.venueOrderId
            next.venueAlgoId = algoId ?? record.venueAlgoId
        case .filled(let cumulative, let average, let orderId):
            guard cumulative > 0 else { throw refuse("a fill of \(cumulative) is no fill") }
            guard cumulative <= record.quantity else { throw refuse("\(cumulative) filled exceeds the order's \(record.quantity)") }
            guard cumulative >= record.filledQuantity else {
                throw refuse("fills are cumulative: \(cumulative) after \(record.filledQuantity)")
            }
            switch record.status {
            case .intent, .unknown, .new, .partiallyFilled:
                next.status = cumulative == record.quantity ? .filled : .partiallyFilled
            case .filled where cumulative == record.filledQuantity: return record
            case .canceled, .expired:
                // A fill made before the cancel or expiry and reported after it (stream and REST
                // race): what filled is recorded, the status stays.
                if cumulative == record.filledQuantity { return record }
            case .filled, .rejected: throw refuse("a \(record.status.rawValue) order takes no new fill")
            }
            next.filledQuantity = cumulative
            next.averagePrice = average ?? record.averagePrice
            next.venueOrderId = orderId ?? record.venueOrderId
        case .canceled:
            switch record.status {
            case .unknown, .new, .partiallyFilled: next.status = .canceled
            case .canceled: return record
            case .intent: throw refuse("an intent that never left cannot be cancelled at the venue")
            case .filled, .rejected, .expired: throw refuse("a \(record.status.rawValue) order cannot be cancelled")
            }
        case .rejected(let code, let message):
            switch record.status {
            case .intent, .unknown: next.status = .rejected
            case .rejected: return record
            default: throw refuse("a \(record.status.rawValue) order was not refused")
            }
            next.error = code.map { "\($0): \(message)" } ?? message
        case .expired:
            switch record.status {
            case .unknown, .new, .partiallyFilled: next.status = .expired
            case .expired: return record
            default: throw refuse("a \(record.status.rawValue) order cannot expire")
            }
        }
        if next != record { next.updatedAt = Timestamp.normalize(at) }
        return next
    }
}
