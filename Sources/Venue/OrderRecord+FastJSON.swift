import ExitBrainDomain
import Foundation

/// A fast path for reading stored order records (a restart reads every one of them): a strict
/// forward-only scan of the JSON ExitBrain writes. Anything it does not expect (escapes, other
/// spellings, a missing field) gives nil, and the caller decodes with `JSONDecoder`, which
/// accepts or refuses with a reason.
extension OrderRecord {
    /// The record in `bytes`, or nil when the fast scan does not apply.
    public static func fastDecode(_ bytes: [UInt8]) -> OrderRecord? {
        bytes.withUnsafeBufferPointer { buffer in
            var s = JSONScanner(buffer)
            guard let record = scan(&s), s.atEnd() else { return nil }
            return record
        }
    }

    private static func scan(_ s: inout JSONScanner) -> OrderRecord? {
        guard s.open("{") else { return nil }
        var id: String?
        var key: PositionKey?
        var planId: String?
        var legIndex: Int?
        var purpose: OrderPurpose?
        var type: OrderType?
        var side: OrderSide?
        var positionSide: PositionSide?
        var quantity: Decimal?
        var trigger: Decimal?
        var status: OrderStatus?
        var orderId: String?
        var algoId: String?
        var filled: Decimal?
        var average: Decimal?
        var error: String?
        var created: Date?
        var updated: Date?
        var first = true
        func optional<T>(_ read: () -> T?) -> T?? {
            if s.null() { return .some(nil) }
            guard let value = read() else { return nil }
            return .some(value)
        }
        while true {
            switch s.next(&first) {
            case .fail: return nil
            case .end:
                guard let id, let key, let purpose, let type, let side, let positionSide, let quantity, let status, let created, let updated
                else { return nil }
                return OrderRecord(
                    clientOrderId: id, key: key, planId: planId, legIndex: legIndex, purpose: purpose, type: type, side: side,
                    positionSide: positionSide, quantity: quantity, triggerPrice: trigger, status: status, venueOrderId: orderId,
                    venueAlgoId: algoId, filledQuantity: filled ?? 0, averagePrice: average, error: error, createdAt: created, updatedAt: updated)
            case .key(let name):
                switch name {
                case "client_order_id": id = s.string()
                case "key": key = s.string().flatMap(PositionKey.init)
                case "plan_id":
                    guard let v = optional({ s.string() }) else { return nil }
                    planId = v
                case "leg_index":
                    guard let v = optional({ s.int() }) else { return nil }
                    legIndex = v
                case "purpose": purpose = s.word()
                case "type": type = s.word()
                case "side": side = s.word()
                case "position_side": positionSide = s.word()
                case "quantity": quantity = s.string().flatMap(Decimal.init(plainText:))
                case "trigger_price":
                    guard let v = optional({ s.string().flatMap(Decimal.init(plainText:)) }) else { return nil }
                    trigger = v
                case "status": status = s.word()
                case "venue_order_id":
                    guard let v = optional({ s.string() }) else { return nil }
                    orderId = v
                case "venue_algo_id":
                    guard let v = optional({ s.string() }) else { return nil }
                    algoId = v
                case "filled_quantity": filled = s.string().flatMap(Decimal.init(plainText:))
                case "avg_price":
                    guard let v = optional({ s.string().flatMap(Decimal.init(plainText:)) }) else { return nil }
                    average = v
                case "error":
                    guard let v = optional({ s.string() }) else { return nil }
                    error = v
                case "created_at": created = s.timestamp()
                case "updated_at": updated = s.timestamp()
                default: return nil
                }
                if s.failed { return nil }
            }
        }
    }
}

extension Decimal {
    /// A decimal from plain text (`-12.345`, at most 19 digits), built from its digits; nil for
    /// anything else (exponents, spaces, more digits): the caller parses those the slow way.
    public init?(plainText text: String) {
        var significand: UInt64 = 0
        var digits = 0
        var scale = 0
        var negative = false
        var seenDot = false
        var index = 0
        for byte in text.utf8 {
            defer { index += 1 }
            switch byte {
            case UInt8(ascii: "-") where index == 0: negative = true
            case UInt8(ascii: "."):
                guard !seenDot, digits > 0 else { return nil }
                seenDot = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard digits < 19 else { return nil }
                significand = significand * 10 + UInt64(byte - UInt8(ascii: "0"))
                digits += 1
                if seenDot { scale += 1 }
            default: return nil
            }
        }
        guard digits > 0 else { return nil }
        self.init(sign: negative ? .minus : .plus, exponent: -scale, significand: Decimal(significand))
    }
}

extension OrderRecord {
    /// The record's JSON in the contract's field order, written directly (the same bytes as
    /// the `Codable` encoding, which tests hold it to): every order change is written once or
    /// twice, so this is on the hot path.
    public func jsonBytes() -> [UInt8] {
        var w = JSONByteWriter(capacity: 420)
        w.raw("{\"client_order_id\":")
        w.string(clientOrderId)
        w.raw(",\"key\":")
        w.string(key.description)
        w.raw(",\"plan_id\":")
        w.optionalString(planId)
        w.raw(",\"leg_index\":")
        if let legIndex { w.int(legIndex) } else { w.raw("null") }
        w.raw(",\"purpose\":")
        w.word(purpose)
        w.raw(",\"type\":")
        w.word(type)
        w.raw(",\"side\":")
        w.word(side)
        w.raw(",\"position_side\":")
        w.word(positionSide)
        w.raw(",\"quantity\":")
        w.string(quantity.plainDescription)
        w.raw(",\"trigger_price\":")
        w.optionalString(triggerPrice?.plainDescription)
        w.raw(",\"status\":")
        w.word(status)
        w.raw(",\"venue_order_id\":")
        w.optionalString(venueOrderId)
        w.raw(",\"venue_algo_id\":")
        w.optionalString(venueAlgoId)
        w.raw(",\"filled_quantity\":")
        w.string(filledQuantity.plainDescription)
        w.raw(",\"avg_price\":")
        w.optionalString(averagePrice?.plainDescription)
        w.raw(",\"error\":")
        w.optionalString(error)
        w.raw(",\"created_at\":")
        w.timestamp(createdAt)
        w.raw(",\"updated_at\":")
        w.timestamp(updatedAt)
        w.raw("}")
        return w.out
    }
}
