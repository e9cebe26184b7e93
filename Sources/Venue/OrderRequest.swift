import ExitBrainDomain
import Foundation

/// The order types ExitBrain sends.
public enum OrderType: String, Codable, Sendable, CaseIterable {
    /// At market, now (entries, market exits).
    case market = "MARKET"
    /// A resting stop: a market order once the trigger is crossed against the position.
    case stopMarket = "STOP_MARKET"
    /// A resting take-profit: a market order once the trigger is crossed in the position's favour.
    case takeProfitMarket = "TAKE_PROFIT_MARKET"

    /// True for the types that rest at the venue until a trigger (Binance: the Algo Order API).
    public var isConditional: Bool { self != .market }
}

/// One order as ExitBrain asks for it: everything on the venue's tick and step already.
public struct OrderRequest: Sendable, Equatable {
    /// Deterministic, so a request sent twice is one order (1–36 of `[.A-Z:/a-z0-9_-]`).
    public var clientOrderId: String
    /// The symbol.
    public var symbol: String
    /// BUY or SELL.
    public var side: OrderSide
    /// The position it opens or reduces (hedge mode sends it; one-way derives reduce-only from it).
    public var positionSide: PositionSide
    /// Entry or exit.
    public var purpose: OrderPurpose
    /// The type.
    public var type: OrderType
    /// On the step.
    public var quantity: Decimal
    /// On the tick; conditional types only.
    public var triggerPrice: Decimal?
    /// The leverage an entry asks for (the venue keeps it per symbol; the paper venue per position).
    public var leverage: Double?

    /// A request.
    public init(
        clientOrderId: String, symbol: String, side: OrderSide, positionSide: PositionSide, purpose: OrderPurpose, type: OrderType,
        quantity: Decimal, triggerPrice: Decimal? = nil, leverage: Double? = nil
    ) {
        self.clientOrderId = clientOrderId
        self.symbol = symbol
        self.side = side
        self.positionSide = positionSide
        self.purpose = purpose
        self.type = type
        self.quantity = quantity
        self.triggerPrice = triggerPrice
        self.leverage = leverage
    }

    /// Every exit is reduce-only.
    public var reduceOnly: Bool { purpose == .exit }
}
