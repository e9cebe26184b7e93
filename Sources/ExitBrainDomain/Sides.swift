/// The side of an open futures position.
public enum PositionSide: String, Codable, Sendable, CaseIterable {
    /// A long position: profits when the price rises.
    case long = "LONG"
    /// A short position: profits when the price falls.
    case short = "SHORT"

    /// The order side that reduces (closes) this position: SELL for LONG, BUY for SHORT.
    public var exitOrderSide: OrderSide {
        switch self {
        case .long: .sell
        case .short: .buy
        }
    }

    /// `+1` for LONG, `-1` for SHORT: multiply a price move by it to get the move in the position's favour.
    public var sign: Double {
        switch self {
        case .long: 1
        case .short: -1
        }
    }

    /// Decodes with a ``DomainError`` naming the allowed words on an unknown side.
    public init(from decoder: any Decoder) throws {
        self = try decodeWord(decoder, field: "side")
    }
}

/// The side of an order.
public enum OrderSide: String, Codable, Sendable, CaseIterable {
    /// Buy: opens or adds to a LONG, closes a SHORT.
    case buy = "BUY"
    /// Sell: opens or adds to a SHORT, closes a LONG.
    case sell = "SELL"

    /// The position side an opening order of this side creates: BUY opens LONG, SELL opens SHORT.
    public var positionSide: PositionSide {
        switch self {
        case .buy: .long
        case .sell: .short
        }
    }

    /// Decodes with a ``DomainError`` naming the allowed words on an unknown side.
    public init(from decoder: any Decoder) throws {
        self = try decodeWord(decoder, field: "side")
    }
}
