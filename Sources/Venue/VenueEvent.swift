import ExitBrainDomain
import Foundation

/// A position as the venue holds it.
public struct VenuePosition: Sendable, Equatable {
    /// `SYMBOL:SIDE`.
    public var key: PositionKey
    /// Its size (positive).
    public var quantity: Decimal
    /// Average entry price.
    public var entryPrice: Decimal
    /// Mark price, when the venue gave one.
    public var markPrice: Decimal?
    /// Leverage, when the venue gave it.
    public var leverage: Double?

    /// A position.
    public init(key: PositionKey, quantity: Decimal, entryPrice: Decimal, markPrice: Decimal? = nil, leverage: Double? = nil) {
        self.key = key
        self.quantity = quantity
        self.entryPrice = entryPrice
        self.markPrice = markPrice
        self.leverage = leverage
    }
}

/// What a venue's event stream reports.
public enum VenueEvent: Sendable, Equatable {
    /// An order of ours changed (by client order id).
    case order(clientOrderId: String, OrderUpdate)
    /// A position changed (zero quantity: closed).
    case position(VenuePosition)
    /// A mark price.
    case price(symbol: String, Decimal)
    /// The stream lost events (reconnect, expiry, restart): read the venue's state again before
    /// trusting the stream.
    case gap(reason: String)
}
