import ExitBrainDomain
import Foundation

/// The record's JSON (docs/contract.md §11): the contract's field order, prices and quantities
/// as decimal strings, `null` for what is not known yet. Encode it with `PlanJSON.encodeValue`,
/// which keeps that order.
extension OrderRecord: Codable {
    enum CodingKeys: String, CodingKey {
        case clientOrderId = "client_order_id"
        case key
        case planId = "plan_id"
        case legIndex = "leg_index"
        case purpose, type, side
        case positionSide = "position_side"
        case quantity
        case triggerPrice = "trigger_price"
        case status
        case venueOrderId = "venue_order_id"
        case venueAlgoId = "venue_algo_id"
        case filledQuantity = "filled_quantity"
        case averagePrice = "avg_price"
        case error
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// Encodes every field in the contract's order.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(clientOrderId, forKey: .clientOrderId)
        try c.encode(key.description, forKey: .key)
        try encodeOrNull(planId, .planId, &c)
        try encodeOrNull(legIndex, .legIndex, &c)
        try c.encode(purpose, forKey: .purpose)
        try c.encode(type, forKey: .type)
        try c.encode(side, forKey: .side)
        try c.encode(positionSide, forKey: .positionSide)
        try c.encode(quantity.plainDescription, forKey: .quantity)
        try encodeOrNull(triggerPrice?.plainDescription, .triggerPrice, &c)
        try c.encode(status, forKey: .status)
        try encodeOrNull(venueOrderId, .venueOrderId, &c)
        try encodeOrNull(venueAlgoId, .venueAlgoId, &c)
        try c.encode(filledQuantity.plainDescription, forKey: .filledQuantity)
        try encodeOrNull(averagePrice?.plainDescription, .averagePrice, &c)
        try encodeOrNull(error, .error, &c)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }

    private func encodeOrNull<T: Encodable>(_ value: T?, _ key: CodingKeys, _ c: inout KeyedEncodingContainer<CodingKeys>) throws {
        if let value { try c.encode(value, forKey: key) } else { try c.encodeNil(forKey: key) }
    }

    /// Reads a stored record; a price or quantity that is not a decimal string is an error.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func decimal(_ key: CodingKeys) throws -> Decimal? {
            guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
            guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")), value.isFinite else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\"\(text)\" is not a decimal number")
            }
            return value
        }
        func timestamp(_ key: CodingKeys) throws -> Date {
            let text = try c.decode(String.self, forKey: key)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\"\(text)\" is not an ISO 8601 UTC timestamp")
            }
            return date
        }
        clientOrderId = try c.decode(String.self, forKey: .clientOrderId)
        let keyText = try c.decode(String.self, forKey: .key)
        guard let key = PositionKey(keyText) else {
            throw DecodingError.dataCorruptedError(forKey: .key, in: c, debugDescription: "\"\(keyText)\" is not SYMBOL:SIDE")
        }
        self.key = key
        planId = try c.decodeIfPresent(String.self, forKey: .planId)
        legIndex = try c.decodeIfPresent(Int.self, forKey: .legIndex)
        purpose = try c.decode(OrderPurpose.self, forKey: .purpose)
        type = try c.decode(OrderType.self, forKey: .type)
        side = try c.decode(OrderSide.self, forKey: .side)
        positionSide = try c.decode(PositionSide.self, forKey: .positionSide)
        guard let quantity = try decimal(.quantity) else {
            throw DecodingError.keyNotFound(CodingKeys.quantity, .init(codingPath: c.codingPath, debugDescription: "quantity is required"))
        }
        self.quantity = quantity
        triggerPrice = try decimal(.triggerPrice)
        status = try c.decode(OrderStatus.self, forKey: .status)
        venueOrderId = try c.decodeIfPresent(String.self, forKey: .venueOrderId)
        venueAlgoId = try c.decodeIfPresent(String.self, forKey: .venueAlgoId)
        filledQuantity = try decimal(.filledQuantity) ?? 0
        averagePrice = try decimal(.averagePrice)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        createdAt = try timestamp(.createdAt)
        updatedAt = try timestamp(.updatedAt)
    }
}
