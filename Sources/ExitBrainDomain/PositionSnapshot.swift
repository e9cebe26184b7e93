import Foundation

/// An open position as kept in the positions hash (docs/contract.md §7).
///
/// Decoding accepts the contract's snake_case fields and also the seed-style fields
/// `positionAmt` (signed: positive LONG, negative SHORT; gives `side` when `side` is absent),
/// `entryPrice`, `markPrice`, `unRealizedProfit` and `positionSide`; seed-style numbers may be
/// strings (`"0.010"`). Other keys are ignored: snapshots come from venues that add fields.
public struct PositionSnapshot: Codable, Sendable, Equatable {
    /// The instrument.
    public var symbol: String
    /// LONG or SHORT.
    public var side: PositionSide
    /// Open quantity, always > 0.
    public var quantity: Double
    /// Average entry price.
    public var entryPrice: Double
    /// Last mark price (the entry price when the source had none).
    public var markPrice: Double
    /// Leverage (1 when the source had none).
    public var leverage: Double
    /// Unrealized PnL in quote currency (computed from the prices when the source had none).
    public var unrealizedPnl: Double
    /// When the position was opened, if known.
    public var openedAt: Date?
    /// When the snapshot was taken, if known.
    public var updatedAt: Date?

    /// Creates a snapshot; call ``validate()`` to check it.
    public init(
        symbol: String, side: PositionSide, quantity: Double, entryPrice: Double, markPrice: Double,
        leverage: Double, unrealizedPnl: Double, openedAt: Date?, updatedAt: Date?
    ) {
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.entryPrice = entryPrice
        self.markPrice = markPrice
        self.leverage = leverage
        self.unrealizedPnl = unrealizedPnl
        self.openedAt = openedAt
        self.updatedAt = updatedAt
    }

    /// `SYMBOL:SIDE`, the snapshot's field in the positions hash.
    public var key: PositionKey { PositionKey(symbol: symbol, side: side) }

    enum CodingKeys: String, CodingKey {
        case symbol, side, quantity
        case entryPrice = "entry_price"
        case markPrice = "mark_price"
        case leverage
        case unrealizedPnl = "unrealized_pnl"
        case openedAt = "opened_at"
        case updatedAt = "updated_at"
        // Seed-style aliases, accepted on input only.
        case positionAmt
        case seedEntryPrice = "entryPrice"
        case seedMarkPrice = "markPrice"
        case seedUnrealizedProfit = "unRealizedProfit"
        case positionSide
    }

    /// Decodes either form and validates (finite positive prices and quantity, known side).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        symbol = try c.require(String.self, .symbol)
        let amount = try Self.number(c, .positionAmt)
        var side = try c.decodeIfPresent(PositionSide.self, forKey: .side)
        if side == nil, let word = try c.decodeIfPresent(String.self, forKey: .positionSide), word != "BOTH" {
            guard let parsed = PositionSide(rawValue: word) else {
                throw DomainError.unknownWord("positionSide", word, allowed: ["LONG", "SHORT", "BOTH"])
            }
            side = parsed
        }
        if side == nil, let amount, amount != 0, amount.isFinite {
            side = amount > 0 ? .long : .short
        }
        guard let side else { throw DomainError.missing("side (or a non-zero signed positionAmt)") }
        if let amount, amount != 0, amount.isFinite, (amount > 0) != (side == .long) {
            throw DomainError(.invalidValue, "positionAmt = \(amount) contradicts side \(side.rawValue)")
        }
        self.side = side
        guard let quantity = try Self.number(c, .quantity) ?? amount.map(abs) else {
            throw DomainError.missing("quantity (or positionAmt)")
        }
        self.quantity = quantity
        guard let entry = try Self.number(c, .entryPrice) ?? Self.number(c, .seedEntryPrice) else {
            throw DomainError.missing("entry_price (or entryPrice)")
        }
        entryPrice = entry
        markPrice = try Self.number(c, .markPrice) ?? Self.number(c, .seedMarkPrice) ?? entry
        leverage = try Self.number(c, .leverage) ?? 1
        let computed = (markPrice - entryPrice) * quantity * side.sign
        unrealizedPnl = try Self.number(c, .unrealizedPnl) ?? Self.number(c, .seedUnrealizedProfit) ?? computed
        openedAt = try c.decodeTimestampIfPresent(forKey: .openedAt)
        updatedAt = try c.decodeTimestampIfPresent(forKey: .updatedAt)
        try validate()
    }

    /// Encodes the contract form (snake_case, contract order; unknown times as `null`).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(symbol, forKey: .symbol)
        try c.encode(side, forKey: .side)
        try c.encode(quantity, forKey: .quantity)
        try c.encode(entryPrice, forKey: .entryPrice)
        try c.encode(markPrice, forKey: .markPrice)
        try c.encode(leverage, forKey: .leverage)
        try c.encode(unrealizedPnl, forKey: .unrealizedPnl)
        try c.encodeTimestampOrNull(openedAt, forKey: .openedAt)
        try c.encodeTimestampOrNull(updatedAt, forKey: .updatedAt)
    }

    /// Checks symbol, prices, quantity and leverage; throws ``DomainError`` naming the field.
    public func validate() throws(DomainError) {
        guard !symbol.isEmpty else { throw DomainError(.invalidValue, "symbol must not be empty") }
        try FractionRules.positive(quantity, "quantity")
        try FractionRules.positive(entryPrice, "entry_price")
        try FractionRules.positive(markPrice, "mark_price")
        try FractionRules.positive(leverage, "leverage")
        guard unrealizedPnl.isFinite else { throw .invalid("unrealized_pnl", unrealizedPnl, "must be finite") }
    }

    /// A number that may be written as a JSON number or, seed-style, as a numeric string.
    private static func number(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Double? {
        guard c.contains(key), try !c.decodeNil(forKey: key) else { return nil }
        if let value = try? c.decode(Double.self, forKey: key) { return value }
        let text = try c.decode(String.self, forKey: key)
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else {
            throw DomainError(.invalidValue, "\(key.stringValue) = \"\(text)\": expected a number")
        }
        return value
    }
}
