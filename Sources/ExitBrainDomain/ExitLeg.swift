import Foundation

/// One exit leg of a plan (docs/contract.md §5): a take profit, the stop loss, the trailing runner or
/// the emergency exit.
///
/// `triggerPct` is signed in the position's favour (TP positive, initial SL negative) and is the
/// same for LONG and SHORT; `triggerPrice` is `entry × (1 + sign × triggerPct)`.
public struct ExitLeg: Codable, Sendable, Equatable {
    /// Position of the leg in the plan's `legs` array (0-based).
    public var index: Int
    /// What the leg does.
    public var kind: LegKind
    /// Trigger distance from entry, a signed fraction in the position's favour.
    public var triggerPct: Double
    /// Price at which the leg fires.
    public var triggerPrice: Double
    /// Share of the initial quantity (TP, TRAIL) or 1.0 for legs that close all that remains (SL, EMERGENCY).
    public var sizePct: Double
    /// Quantity the leg closes (for SL and EMERGENCY: what remains).
    public var quantity: Double
    /// Pending, filled or cancelled.
    public var status: LegStatus
    /// Deterministic client order id of the exit order (see ``ClientOrderID``).
    public var clientOrderId: String
    /// Price the leg filled at; `nil` until filled.
    public var filledPrice: Double?
    /// When the leg filled; `nil` until filled.
    public var filledAt: Date?
    /// Where the leg's order is at the venue (docs/contract.md §11); `nil` until the service
    /// asked for one.
    public var orderStatus: OrderStatus?
    /// How much of the leg the venue reported filled; `nil` until something filled.
    public var filledQuantity: Double?

    /// Creates a leg.
    public init(
        index: Int, kind: LegKind, triggerPct: Double, triggerPrice: Double, sizePct: Double,
        quantity: Double, status: LegStatus = .pending, clientOrderId: String,
        filledPrice: Double? = nil, filledAt: Date? = nil, orderStatus: OrderStatus? = nil, filledQuantity: Double? = nil
    ) {
        self.index = index
        self.kind = kind
        self.triggerPct = triggerPct
        self.triggerPrice = triggerPrice
        self.sizePct = sizePct
        self.quantity = quantity
        self.status = status
        self.clientOrderId = clientOrderId
        self.filledPrice = filledPrice
        self.filledAt = filledAt
        self.orderStatus = orderStatus
        self.filledQuantity = filledQuantity
    }

    enum CodingKeys: String, CodingKey {
        case index, kind
        case triggerPct = "trigger_pct"
        case triggerPrice = "trigger_price"
        case sizePct = "size_pct"
        case quantity, status
        case clientOrderId = "client_order_id"
        case filledPrice = "filled_price"
        case filledAt = "filled_at"
        case orderStatus = "order_status"
        case filledQuantity = "filled_quantity"
    }

    /// Decodes a leg; numbers must be finite, quantities ≥ 0.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = try c.require(Int.self, .index)
        kind = try c.require(LegKind.self, .kind)
        triggerPct = try c.require(Double.self, .triggerPct)
        triggerPrice = try c.require(Double.self, .triggerPrice)
        sizePct = try c.require(Double.self, .sizePct)
        quantity = try c.require(Double.self, .quantity)
        status = try c.require(LegStatus.self, .status)
        clientOrderId = try c.require(String.self, .clientOrderId)
        filledPrice = try c.decodeIfPresent(Double.self, forKey: .filledPrice)
        filledAt = try c.decodeTimestampIfPresent(forKey: .filledAt)
        orderStatus = try c.decodeIfPresent(OrderStatus.self, forKey: .orderStatus)
        filledQuantity = try c.decodeIfPresent(Double.self, forKey: .filledQuantity)
        try validate(path: pathText(decoder.codingPath))
    }

    /// The checks every decoded leg passes; `path` names the leg in messages (`legs[2]`).
    func validate(path: String) throws(DomainError) {
        guard triggerPct.isFinite else { throw DomainError.invalid("\(path).trigger_pct", triggerPct, "must be finite") }
        try FractionRules.positive(triggerPrice, "\(path).trigger_price")
        try FractionRules.inRange(sizePct, "\(path).size_pct", 0...1)
        guard quantity.isFinite, quantity >= 0 else {
            throw DomainError.invalid("\(path).quantity", quantity, "must be a finite number ≥ 0")
        }
        if let filledPrice { try FractionRules.positive(filledPrice, "\(path).filled_price") }
        if let filledQuantity, !filledQuantity.isFinite || filledQuantity < 0 {
            throw DomainError.invalid("\(path).filled_quantity", filledQuantity, "must be a finite number ≥ 0")
        }
    }

    /// Encodes in contract order; `filled_price` and `filled_at` only once the leg has filled,
    /// `order_status` and `filled_quantity` only once the service works the leg at a venue.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(kind, forKey: .kind)
        try c.encode(triggerPct, forKey: .triggerPct)
        try c.encode(triggerPrice, forKey: .triggerPrice)
        try c.encode(sizePct, forKey: .sizePct)
        try c.encode(quantity, forKey: .quantity)
        try c.encode(status, forKey: .status)
        try c.encode(clientOrderId, forKey: .clientOrderId)
        try c.encodeIfPresent(filledPrice, forKey: .filledPrice)
        if let filledAt { try c.encodeTimestamp(filledAt, forKey: .filledAt) }
        try c.encodeIfPresent(orderStatus, forKey: .orderStatus)
        try c.encodeIfPresent(filledQuantity, forKey: .filledQuantity)
    }
}
