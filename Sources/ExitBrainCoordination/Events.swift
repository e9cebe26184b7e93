import ExitBrainDomain
import Foundation

/// `trade.signal` `action`.
public enum SignalAction: String, Codable, Sendable, CaseIterable {
    /// Open or add to the side (default).
    case open = "OPEN"
    /// Close that side at market.
    case close = "CLOSE"
}

/// `trade.signal` data. Decoding is strict: unknown keys, wrong types, non-finite or
/// non-positive numbers, unknown sides and `_pct` values of 1 or more are refused.
public struct TradeSignal: Codable, Sendable, Equatable {
    /// The symbol, e.g. `BTCUSDT`.
    public var symbol: String
    /// `BUY` (LONG side) or `SELL` (SHORT side).
    public var side: OrderSide
    /// Quantity in base units.
    public var quantity: Double
    /// Leverage (1–125).
    public var leverage: Double
    /// The price to fill at (paper), if given.
    public var price: Double?
    /// Open (default) or close.
    public var action: SignalAction
    /// The planner's context: hints, risk and market data.
    public var context: PlanContext

    /// A signal.
    public init(
        symbol: String, side: OrderSide, quantity: Double, leverage: Double = 1, price: Double? = nil,
        action: SignalAction = .open, context: PlanContext = PlanContext()
    ) {
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.leverage = leverage
        self.price = price
        self.action = action
        self.context = context
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case symbol, side, quantity, leverage, price, action
        case rlHints = "rl_hints"
        case riskContext = "risk_context"
        case marketData = "market_data"
    }

    /// Strict decoding (see the type's summary).
    public init(from decoder: any Decoder) throws {
        try StrictDecoding.rejectUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue), object: "trade.signal data")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        symbol = try StrictDecoding.symbol(c, .symbol)
        let sideWord = try c.decode(String.self, forKey: .side)
        guard let s = OrderSide(rawValue: sideWord.uppercased()) else {
            throw EventRejection(.unknownSide, "side \"\(sideWord.prefix(32))\" is not BUY or SELL")
        }
        side = s
        quantity = try StrictDecoding.positive(c, .quantity, max: 1e9)
        leverage = try StrictDecoding.positive(c, .leverage, max: 125)
        price = try c.contains(.price) && !c.decodeNil(forKey: .price) ? StrictDecoding.positive(c, .price, max: 1e12) : nil
        if let word = try c.decodeIfPresent(String.self, forKey: .action) {
            guard let a = SignalAction(rawValue: word.uppercased()) else {
                throw EventRejection(.invalidValue, "action \"\(word.prefix(32))\" is not OPEN or CLOSE")
            }
            action = a
        } else {
            action = .open
        }
        context = PlanContext(
            rlHints: try c.decodeIfPresent(RLHints.self, forKey: .rlHints),
            riskContext: try c.decodeIfPresent(RiskContext.self, forKey: .riskContext),
            marketData: try c.decodeIfPresent(MarketData.self, forKey: .marketData)
        )
    }

    /// Encodes in contract order; absent options are omitted.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(symbol, forKey: .symbol)
        try c.encode(side, forKey: .side)
        try c.encode(quantity, forKey: .quantity)
        try c.encode(leverage, forKey: .leverage)
        try c.encodeIfPresent(price, forKey: .price)
        try c.encode(action, forKey: .action)
        try c.encodeIfPresent(context.rlHints, forKey: .rlHints)
        try c.encodeIfPresent(context.riskContext, forKey: .riskContext)
        try c.encodeIfPresent(context.marketData, forKey: .marketData)
    }
}

/// `market.tick` data.
public struct MarketTick: Codable, Sendable, Equatable {
    /// The symbol.
    public var symbol: String
    /// The price.
    public var price: Double

    /// A tick.
    public init(symbol: String, price: Double) {
        self.symbol = symbol
        self.price = price
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case symbol, price }

    /// The highest price a tick may carry.
    static let maximumPrice = 1e12

    /// Strict decoding: a known symbol form and a finite positive price.
    public init(from decoder: any Decoder) throws {
        try StrictDecoding.rejectUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue), object: "market.tick data")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        symbol = try StrictDecoding.symbol(c, .symbol)
        price = try StrictDecoding.positive(c, .price, max: Self.maximumPrice)
    }
}

/// `order.filled` data.
public struct OrderFilled: Codable, Sendable, Equatable {
    /// The symbol.
    public var symbol: String
    /// The order's side (BUY/SELL).
    public var side: OrderSide
    /// Filled quantity.
    public var quantity: Double
    /// Fill price.
    public var price: Double
    /// The order's id (deterministic for exits).
    public var clientOrderId: String
    /// `ENTRY` or `EXIT`.
    public var purpose: OrderPurpose
    /// True for every exit.
    public var reduceOnly: Bool
    /// The plan leg, for exits.
    public var legIndex: Int?

    /// A fill.
    public init(
        symbol: String, side: OrderSide, quantity: Double, price: Double, clientOrderId: String, purpose: OrderPurpose, reduceOnly: Bool,
        legIndex: Int?
    ) {
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.price = price
        self.clientOrderId = clientOrderId
        self.purpose = purpose
        self.reduceOnly = reduceOnly
        self.legIndex = legIndex
    }

    enum CodingKeys: String, CodingKey {
        case symbol, side, quantity, price, purpose
        case clientOrderId = "client_order_id"
        case reduceOnly = "reduce_only"
        case legIndex = "leg_index"
    }

    /// Encodes every field, `leg_index` as null for entries.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(symbol, forKey: .symbol)
        try c.encode(side, forKey: .side)
        try c.encode(quantity, forKey: .quantity)
        try c.encode(price, forKey: .price)
        try c.encode(clientOrderId, forKey: .clientOrderId)
        try c.encode(purpose, forKey: .purpose)
        try c.encode(reduceOnly, forKey: .reduceOnly)
        if let legIndex { try c.encode(legIndex, forKey: .legIndex) } else { try c.encodeNil(forKey: .legIndex) }
    }
}

/// `exit_plan.updated` data.
public struct PlanUpdatedEvent: Codable, Sendable, Equatable {
    /// `SYMBOL:SIDE`.
    public var key: String
    /// The plan.
    public var planId: String
    /// The new version.
    public var version: Int
    /// What changed (the first change of the step when several happened).
    public var change: String
    /// Every change of the step.
    public var changes: [String]

    /// An update event.
    public init(key: String, planId: String, version: Int, change: String, changes: [String]) {
        self.key = key
        self.planId = planId
        self.version = version
        self.change = change
        self.changes = changes
    }

    enum CodingKeys: String, CodingKey {
        case key
        case planId = "plan_id"
        case version, change, changes
    }

    /// The JSON the Codable encoding gives, written directly (it goes with every plan write).
    public func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + key.utf8.count + planId.utf8.count + changes.count * 16)
        out += "{\"key\":".utf8
        out += JSONText.quoted(key).utf8
        out += ",\"plan_id\":".utf8
        out += JSONText.quoted(planId).utf8
        out += ",\"version\":".utf8
        out += String(version).utf8
        out += ",\"change\":".utf8
        out += JSONText.quoted(change).utf8
        out += ",\"changes\":[".utf8
        for (i, c) in changes.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += JSONText.quoted(c).utf8
        }
        out += "]}".utf8
        return out
    }
}

/// `exit_leg.triggered` data.
public struct LegTriggeredEvent: Codable, Sendable, Equatable {
    /// `SYMBOL:SIDE`.
    public var key: String
    /// The plan.
    public var planId: String
    /// The leg.
    public var legIndex: Int
    /// The leg's kind.
    public var kind: LegKind
    /// The price that triggered it.
    public var price: Double
    /// The exit order's quantity.
    public var quantity: Double
    /// The exit order's id.
    public var clientOrderId: String
    /// True when nothing was placed (shadow mode).
    public var shadow: Bool

    /// A trigger event.
    public init(key: String, planId: String, legIndex: Int, kind: LegKind, price: Double, quantity: Double, clientOrderId: String, shadow: Bool) {
        self.key = key
        self.planId = planId
        self.legIndex = legIndex
        self.kind = kind
        self.price = price
        self.quantity = quantity
        self.clientOrderId = clientOrderId
        self.shadow = shadow
    }

    enum CodingKeys: String, CodingKey {
        case key
        case planId = "plan_id"
        case legIndex = "leg_index"
        case kind, price, quantity
        case clientOrderId = "client_order_id"
        case shadow
    }
}

/// `exit_plan.closed` data.
public struct PlanClosedEvent: Codable, Sendable, Equatable {
    /// `SYMBOL:SIDE`.
    public var key: String
    /// The plan.
    public var planId: String
    /// Why it closed.
    public var closedReason: ClosedReason
    /// Realized PnL of the plan's exits, fees included.
    public var realizedPnl: Double

    /// A close event.
    public init(key: String, planId: String, closedReason: ClosedReason, realizedPnl: Double) {
        self.key = key
        self.planId = planId
        self.closedReason = closedReason
        self.realizedPnl = realizedPnl
    }

    enum CodingKeys: String, CodingKey {
        case key
        case planId = "plan_id"
        case closedReason = "closed_reason"
        case realizedPnl = "realized_pnl"
    }
}

/// `service.heartbeat` data.
public struct HeartbeatEvent: Codable, Sendable, Equatable {
    /// The service name, e.g. `execution-service`.
    public var service: String
    /// This process's instance id.
    public var instance: String
    /// The service's version.
    public var version: String
    /// Its overall health.
    public var status: String
}

/// How bad an alert is.
public enum AlertSeverity: String, Codable, Sendable, CaseIterable {
    /// Worth knowing (a plan created retroactively, a peer back).
    case info
    /// Worth a look (a plan that disagrees with its position).
    case warning
    /// Act now (a peer down, a position without protection).
    case critical
}

/// `alert` data.
public struct AlertEvent: Codable, Sendable, Equatable {
    /// `info`, `warning` or `critical`.
    public var severity: AlertSeverity
    /// A stable code, e.g. `PLAN_MISSING`.
    public var code: String
    /// What happened.
    public var message: String
    /// The position concerned, if any.
    public var key: String?

    /// An alert.
    public init(severity: AlertSeverity, code: String, message: String, key: String? = nil) {
        self.severity = severity
        self.code = code
        self.message = message
        self.key = key
    }
}

/// `event.rejected` data.
public struct EventRejectedEvent: Codable, Sendable, Equatable {
    /// The channel the message came on.
    public var channel: String
    /// The reason code.
    public var reason: String
    /// What was wrong, for a person.
    public var detail: String
    /// The first 256 bytes of the message (as text, invalid UTF-8 repaired).
    public var message: String
}
