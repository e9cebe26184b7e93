import Foundation
import Venue

/// A Binance order's status (`X` on the stream, `status` over REST) as an ``OrderUpdate``: the
/// one mapping the stream and the queries share. Nil when the status says nothing the order's
/// life can take (an unknown word, a fill of nothing).
enum OrderStatusMapping {
    static func update(status: String, cumulative: String, average: String, orderId: Int64) -> OrderUpdate? {
        let id = String(orderId)
        switch status {
        case "NEW": return .accepted(venueOrderId: id, venueAlgoId: nil)
        case "PARTIALLY_FILLED", "FILLED":
            guard let filled = Decimal(plainText: cumulative), filled > 0 else { return nil }
            return .filled(cumulative: filled, averagePrice: Decimal(plainText: average).flatMap { $0 > 0 ? $0 : nil }, venueOrderId: id)
        case "CANCELED": return .canceled
        case "EXPIRED", "EXPIRED_IN_MATCH": return .expired
        case "REJECTED": return .rejected(code: nil, message: "rejected by the venue")
        default: return nil
        }
    }
}
