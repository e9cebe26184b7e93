import ExitBrainDomain
import Foundation

/// The record of one order in `{ns}:orders` (docs/contract.md §11), also the data of
/// `order.placed`: what ExitBrain intended, sent, and learned of it. Quantities and prices are
/// decimal strings on the venue's tick and step.
public struct OrderRecord: Sendable, Equatable {
    /// The deterministic client order id (the hash field).
    public var clientOrderId: String
    /// `SYMBOL:SIDE` of the position.
    public var key: PositionKey
    /// The plan it belongs to (none for an entry).
    public var planId: String?
    /// The plan leg, for exits.
    public var legIndex: Int?
    /// Entry or exit.
    public var purpose: OrderPurpose
    /// The order type.
    public var type: OrderType
    /// BUY or SELL.
    public var side: OrderSide
    /// The position side.
    public var positionSide: PositionSide
    /// The ordered quantity.
    public var quantity: Decimal
    /// The trigger, for conditional orders.
    public var triggerPrice: Decimal?
    /// Where it is in its life.
    public var status: OrderStatus
    /// The venue's order id (of the child order, for a triggered conditional).
    public var venueOrderId: String?
    /// The venue's id of the conditional (algo) order.
    public var venueAlgoId: String?
    /// How much has filled.
    public var filledQuantity: Decimal
    /// The average fill price, once something filled.
    public var averagePrice: Decimal?
    /// The venue's refusal or the last failure, in its words.
    public var error: String?
    /// When it was written (whole milliseconds, as stored).
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    /// A record with every field given (a stored record read back).
    public init(
        clientOrderId: String, key: PositionKey, planId: String?, legIndex: Int?, purpose: OrderPurpose, type: OrderType, side: OrderSide,
        positionSide: PositionSide, quantity: Decimal, triggerPrice: Decimal?, status: OrderStatus, venueOrderId: String?, venueAlgoId: String?,
        filledQuantity: Decimal, averagePrice: Decimal?, error: String?, createdAt: Date, updatedAt: Date
    ) {
        self.clientOrderId = clientOrderId
        self.key = key
        self.planId = planId
        self.legIndex = legIndex
        self.purpose = purpose
        self.type = type
        self.side = side
        self.positionSide = positionSide
        self.quantity = quantity
        self.triggerPrice = triggerPrice
        self.status = status
        self.venueOrderId = venueOrderId
        self.venueAlgoId = venueAlgoId
        self.filledQuantity = filledQuantity
        self.averagePrice = averagePrice
        self.error = error
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// An intent, before the request leaves.
    public init(intent request: OrderRequest, key: PositionKey, planId: String?, legIndex: Int?, at: Date) {
        clientOrderId = request.clientOrderId
        self.key = key
        self.planId = planId
        self.legIndex = legIndex
        purpose = request.purpose
        type = request.type
        side = request.side
        positionSide = request.positionSide
        quantity = request.quantity
        triggerPrice = request.triggerPrice
        status = .intent
        filledQuantity = 0
        createdAt = Timestamp.normalize(at)
        updatedAt = createdAt
    }

    /// The request this record was written for (to resend nothing, but to query by its id).
    public var request: OrderRequest {
        OrderRequest(
            clientOrderId: clientOrderId, symbol: key.symbol, side: side, positionSide: positionSide, purpose: purpose, type: type,
            quantity: quantity, triggerPrice: triggerPrice)
    }

    /// The quantity still to fill.
    public var remainingQuantity: Decimal { quantity - filledQuantity }
}
