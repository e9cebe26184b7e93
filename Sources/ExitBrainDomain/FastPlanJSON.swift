import Foundation

// Hand-written plan and snapshot JSON. Every plan write and every reconcile pass goes through
// these two types, so the generic Codable path (35–80 µs a plan) is too slow for them.
//
// The rule that keeps the two paths one contract: the writer's bytes are identical to the
// ordered Codable encoder's, and the reader accepts only a strict subset of what the Codable
// decoder accepts (canonical keys, no escapes, plain numbers) and gives the same value. Anything
// else — and every error — goes to the Codable path, which gives the error its message.
// `FastJSONTests` holds both paths to that over generated plans and a malformed corpus.

/// Appends JSON to a byte buffer.
package struct JSONByteWriter {
    package var out: [UInt8] = []

    package init(capacity: Int) { out.reserveCapacity(capacity) }

    package mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    package mutating func string(_ text: String) {
        JSONNode.writeString(text, to: &out)
    }

    /// A string, or `null`.
    package mutating func optionalString(_ text: String?) {
        if let text { string(text) } else { raw("null") }
    }

    /// False for a non-finite value (the caller falls back to the Codable path for the error).
    mutating func number(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        if value == 0 {
            raw("0.0")
        } else {
            out.append(contentsOf: value.description.utf8)
        }
        return true
    }

    mutating func optionalNumber(_ value: Double?) -> Bool {
        guard let value else {
            raw("null")
            return true
        }
        return number(value)
    }

    package mutating func int(_ value: Int) {
        out.append(contentsOf: String(value).utf8)
    }

    package mutating func timestamp(_ date: Date) {
        out.append(UInt8(ascii: "\""))
        Timestamp.write(date, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    package mutating func word<W: RawRepresentable>(_ word: W) where W.RawValue == String {
        string(word.rawValue)
    }
}

enum FastPlanJSON {
    // MARK: - writing

    static func encode(_ plan: ExitPlan) -> [UInt8]? {
        var w = JSONByteWriter(capacity: 640 + 256 * plan.legs.count)
        w.raw("{\"plan_id\":")
        w.string(plan.planId)
        w.raw(",\"symbol\":")
        w.string(plan.symbol)
        w.raw(",\"side\":")
        w.word(plan.side)
        w.raw(",\"status\":")
        w.word(plan.status)
        w.raw(",\"version\":")
        w.int(plan.version)
        w.raw(",\"strategy_id\":")
        w.word(plan.strategyId)
        w.raw(",\"profile\":")
        w.word(plan.profile)
        w.raw(",\"source\":")
        w.word(plan.source)
        w.raw(",\"entry_price\":")
        guard w.number(plan.entryPrice) else { return nil }
        w.raw(",\"initial_quantity\":")
        guard w.number(plan.initialQuantity) else { return nil }
        w.raw(",\"remaining_quantity\":")
        guard w.number(plan.remainingQuantity) else { return nil }
        w.raw(",\"leverage\":")
        guard w.number(plan.leverage) else { return nil }
        w.raw(",\"created_at\":")
        w.timestamp(plan.createdAt)
        w.raw(",\"updated_at\":")
        w.timestamp(plan.updatedAt)
        w.raw(",\"confidence\":")
        guard w.number(plan.confidence) else { return nil }
        w.raw(",\"market_regime\":")
        w.word(plan.marketRegime)
        w.raw(",\"context\":")
        guard write(plan.context, &w) else { return nil }
        w.raw(",\"legs\":[")
        for (i, leg) in plan.legs.enumerated() {
            if i > 0 { w.raw(",") }
            guard write(leg, &w) else { return nil }
        }
        w.raw("],\"trailing\":{\"enabled\":")
        w.raw(plan.trailing.enabled ? "true" : "false")
        w.raw(",\"callback_pct\":")
        guard w.number(plan.trailing.callbackPct) else { return nil }
        w.raw(",\"activation_price\":")
        guard w.optionalNumber(plan.trailing.activationPrice) else { return nil }
        w.raw(",\"best_price\":")
        guard w.optionalNumber(plan.trailing.bestPrice) else { return nil }
        w.raw(",\"stop_price\":")
        guard w.optionalNumber(plan.trailing.stopPrice) else { return nil }
        w.raw("},\"closed_reason\":")
        if let reason = plan.closedReason { w.word(reason) } else { w.raw("null") }
        if let timeStopAt = plan.timeStopAt {
            w.raw(",\"time_stop_at\":")
            w.timestamp(timeStopAt)
        }
        w.raw("}")
        return w.out
    }

    private static func write(_ leg: ExitLeg, _ w: inout JSONByteWriter) -> Bool {
        w.raw("{\"index\":")
        w.int(leg.index)
        w.raw(",\"kind\":")
        w.word(leg.kind)
        w.raw(",\"trigger_pct\":")
        guard w.number(leg.triggerPct) else { return false }
        w.raw(",\"trigger_price\":")
        guard w.number(leg.triggerPrice) else { return false }
        w.raw(",\"size_pct\":")
        guard w.number(leg.sizePct) else { return false }
        w.raw(",\"quantity\":")
        guard w.number(leg.quantity) else { return false }
        w.raw(",\"status\":")
        w.word(leg.status)
        w.raw(",\"client_order_id\":")
        w.string(leg.clientOrderId)
        if let price = leg.filledPrice {
            w.raw(",\"filled_price\":")
            guard w.number(price) else { return false }
        }
        if let at = leg.filledAt {
            w.raw(",\"filled_at\":")
            w.timestamp(at)
        }
        if let status = leg.orderStatus {
            w.raw(",\"order_status\":")
            w.word(status)
        }
        if let filled = leg.filledQuantity {
            w.raw(",\"filled_quantity\":")
            guard w.number(filled) else { return false }
        }
        w.raw("}")
        return true
    }

    /// Writes `"key":value` for a present optional, with a comma when not first.
    private static func member(_ key: StaticString, _ value: Double?, _ first: inout Bool, _ w: inout JSONByteWriter) -> Bool {
        guard let value else { return true }
        if !first { w.raw(",") }
        first = false
        w.raw("\"")
        w.raw(key)
        w.raw("\":")
        return w.number(value)
    }

    private static func member<W: RawRepresentable>(_ key: StaticString, _ value: W?, _ first: inout Bool, _ w: inout JSONByteWriter)
    where W.RawValue == String {
        guard let value else { return }
        if !first { w.raw(",") }
        first = false
        w.raw("\"")
        w.raw(key)
        w.raw("\":")
        w.word(value)
    }

    private static func write(_ context: PlanContext, _ w: inout JSONByteWriter) -> Bool {
        var outer = true
        w.raw("{")
        if let hints = context.rlHints {
            outer = false
            w.raw("\"rl_hints\":{")
            var first = true
            guard member("tp_target_pct", hints.tpTargetPct, &first, &w),
                member("sl_target_pct", hints.slTargetPct, &first, &w),
                member("trail_callback_pct", hints.trailCallbackPct, &first, &w),
                member("confidence", hints.confidence, &first, &w)
            else { return false }
            w.raw("}")
        }
        if let risk = context.riskContext {
            if !outer { w.raw(",") }
            outer = false
            w.raw("\"risk_context\":{")
            var first = true
            member("risk_mode", risk.riskMode, &first, &w)
            guard member("max_loss_pct", risk.maxLossPct, &first, &w) else { return false }
            w.raw("}")
        }
        if let market = context.marketData {
            if !outer { w.raw(",") }
            w.raw("\"market_data\":{")
            var first = true
            guard member("volatility", market.volatility, &first, &w),
                member("trend_strength", market.trendStrength, &first, &w)
            else { return false }
            member("regime", market.regime, &first, &w)
            guard member("atr_pct", market.atrPct, &first, &w) else { return false }
            w.raw("}")
        }
        w.raw("}")
        return true
    }

    static func encode(_ snapshot: PositionSnapshot) -> [UInt8]? {
        var w = JSONByteWriter(capacity: 320)
        w.raw("{\"symbol\":")
        w.string(snapshot.symbol)
        w.raw(",\"side\":")
        w.word(snapshot.side)
        w.raw(",\"quantity\":")
        guard w.number(snapshot.quantity) else { return nil }
        w.raw(",\"entry_price\":")
        guard w.number(snapshot.entryPrice) else { return nil }
        w.raw(",\"mark_price\":")
        guard w.number(snapshot.markPrice) else { return nil }
        w.raw(",\"leverage\":")
        guard w.number(snapshot.leverage) else { return nil }
        w.raw(",\"unrealized_pnl\":")
        guard w.number(snapshot.unrealizedPnl) else { return nil }
        w.raw(",\"opened_at\":")
        if let at = snapshot.openedAt { w.timestamp(at) } else { w.raw("null") }
        w.raw(",\"updated_at\":")
        if let at = snapshot.updatedAt { w.timestamp(at) } else { w.raw("null") }
        w.raw("}")
        return w.out
    }

    // MARK: - reading

    static func decodePlan(_ bytes: UnsafeBufferPointer<UInt8>) -> ExitPlan? {
        var s = JSONScanner(bytes)
        guard let plan = plan(&s), s.atEnd() else { return nil }
        return plan
    }

    static func decodeSnapshot(_ bytes: UnsafeBufferPointer<UInt8>) -> PositionSnapshot? {
        var s = JSONScanner(bytes)
        guard let snapshot = snapshot(&s), s.atEnd() else { return nil }
        return snapshot
    }

    private static func plan(_ s: inout JSONScanner) -> ExitPlan? {
        guard s.open("{") else { return nil }
        var seen = KeySet()
        var planId: String?
        var symbol: String?
        var side: PositionSide?
        var status: PlanStatus?
        var version: Int?
        var strategy: StrategyID?
        var profile: ExitProfile?
        var source: PlanSource?
        var entry: Double?
        var initial: Double?
        var remaining: Double?
        var leverage: Double?
        var created: Date?
        var updated: Date?
        var confidence: Double?
        var regime: MarketRegime?
        var context = PlanContext()
        var legs: [ExitLeg]?
        var trailing: TrailingState?
        var closedReason: ClosedReason?
        var timeStop: Date?
        var first = true
        while true {
            switch s.next(&first) {
            case .fail: return nil
            case .end:
                guard let planId, let symbol, let side, let status, let version, let strategy, let profile, let source,
                    let entry, let initial, let remaining, let leverage, let created, let updated, let confidence,
                    let regime, let legs, let trailing
                else { return nil }
                let plan = ExitPlan(
                    planId: planId, symbol: symbol, side: side, status: status, version: version,
                    strategyId: strategy, profile: profile, source: source, entryPrice: entry,
                    initialQuantity: initial, remainingQuantity: remaining, leverage: leverage,
                    createdAt: created, updatedAt: updated, confidence: confidence, marketRegime: regime,
                    context: context, legs: legs, trailing: trailing, closedReason: closedReason,
                    timeStopAt: timeStop)
                do { try plan.validate() } catch { return nil }
                return plan
            case .key(let key):
                switch key {
                case "plan_id":
                    guard seen.insert(0) else { return nil }
                    planId = s.string()
                case "symbol":
                    guard seen.insert(1) else { return nil }
                    symbol = s.string()
                case "side":
                    guard seen.insert(2) else { return nil }
                    side = s.word()
                case "status":
                    guard seen.insert(3) else { return nil }
                    status = s.word()
                case "version":
                    guard seen.insert(4) else { return nil }
                    version = s.int()
                case "strategy_id":
                    guard seen.insert(5) else { return nil }
                    strategy = s.word()
                case "profile":
                    guard seen.insert(6) else { return nil }
                    profile = s.word()
                case "source":
                    guard seen.insert(7) else { return nil }
                    source = s.word()
                case "entry_price":
                    guard seen.insert(8) else { return nil }
                    entry = s.number()
                case "initial_quantity":
                    guard seen.insert(9) else { return nil }
                    initial = s.number()
                case "remaining_quantity":
                    guard seen.insert(10) else { return nil }
                    remaining = s.number()
                case "leverage":
                    guard seen.insert(11) else { return nil }
                    leverage = s.number()
                case "created_at":
                    guard seen.insert(12) else { return nil }
                    created = s.timestamp()
                case "updated_at":
                    guard seen.insert(13) else { return nil }
                    updated = s.timestamp()
                case "confidence":
                    guard seen.insert(14) else { return nil }
                    confidence = s.number()
                case "market_regime":
                    guard seen.insert(15) else { return nil }
                    regime = s.word()
                case "context":
                    guard seen.insert(16) else { return nil }
                    if !s.null() {
                        guard let value = self.context(&s) else { return nil }
                        context = value
                    }
                case "legs":
                    guard seen.insert(17) else { return nil }
                    legs = self.legs(&s)
                case "trailing":
                    guard seen.insert(18) else { return nil }
                    trailing = self.trailing(&s)
                case "closed_reason":
                    guard seen.insert(19) else { return nil }
                    if !s.null() {
                        guard let reason: ClosedReason = s.word() else { return nil }
                        closedReason = reason
                    }
                case "time_stop_at":
                    guard seen.insert(20) else { return nil }
                    if !s.null() {
                        guard let at = s.timestamp() else { return nil }
                        timeStop = at
                    }
                default: return nil
                }
                guard !s.failed else { return nil }
            }
        }
    }

    private static func legs(_ s: inout JSONScanner) -> [ExitLeg]? {
        guard s.open("[") else { return nil }
        var legs: [ExitLeg] = []
        legs.reserveCapacity(6)
        if s.close("]") { return legs }
        repeat {
            guard let leg = leg(&s) else { return nil }
            legs.append(leg)
        } while s.close(",")
        guard s.close("]") else { return nil }
        return legs
    }

    private static func leg(_ s: inout JSONScanner) -> ExitLeg? {
        guard s.open("{") else { return nil }
        var seen = KeySet()
        var index: Int?
        var kind: LegKind?
        var triggerPct: Double?
        var triggerPrice: Double?
        var sizePct: Double?
        var quantity: Double?
        var status: LegStatus?
        var orderId: String?
        var filledPrice: Double?
        var filledAt: Date?
        var orderStatus: OrderStatus?
        var filledQuantity: Double?
        var first = true
        while true {
            switch s.next(&first) {
            case .fail: return nil
            case .end:
                guard let index, let kind, let triggerPct, let triggerPrice, let sizePct, let quantity, let status,
                    let orderId
                else { return nil }
                let leg = ExitLeg(
                    index: index, kind: kind, triggerPct: triggerPct, triggerPrice: triggerPrice, sizePct: sizePct,
                    quantity: quantity, status: status, clientOrderId: orderId, filledPrice: filledPrice,
                    filledAt: filledAt, orderStatus: orderStatus, filledQuantity: filledQuantity)
                do { try leg.validate(path: "leg") } catch { return nil }
                return leg
            case .key(let key):
                switch key {
                case "index":
                    guard seen.insert(0) else { return nil }
                    index = s.int()
                case "kind":
                    guard seen.insert(1) else { return nil }
                    kind = s.word()
                case "trigger_pct":
                    guard seen.insert(2) else { return nil }
                    triggerPct = s.number()
                case "trigger_price":
                    guard seen.insert(3) else { return nil }
                    triggerPrice = s.number()
                case "size_pct":
                    guard seen.insert(4) else { return nil }
                    sizePct = s.number()
                case "quantity":
                    guard seen.insert(5) else { return nil }
                    quantity = s.number()
                case "status":
                    guard seen.insert(6) else { return nil }
                    status = s.word()
                case "client_order_id":
                    guard seen.insert(7) else { return nil }
                    orderId = s.string()
                case "filled_price":
                    guard seen.insert(8) else { return nil }
                    if !s.null() {
                        guard let value = s.number() else { return nil }
                        filledPrice = value
                    }
                case "filled_at":
                    guard seen.insert(9) else { return nil }
                    if !s.null() {
                        guard let value = s.timestamp() else { return nil }
                        filledAt = value
                    }
                case "order_status":
                    guard seen.insert(10) else { return nil }
                    if !s.null() {
                        guard let value: OrderStatus = s.word() else { return nil }
                        orderStatus = value
                    }
                case "filled_quantity":
                    guard seen.insert(11) else { return nil }
                    if !s.null() {
                        guard let value = s.number() else { return nil }
                        filledQuantity = value
                    }
                default: return nil
                }
                guard !s.failed else { return nil }
            }
        }
    }

    private static func trailing(_ s: inout JSONScanner) -> TrailingState? {
        guard s.open("{") else { return nil }
        var seen = KeySet()
        var enabled: Bool?
        var callback: Double?
        var activation: Double?
        var best: Double?
        var stop: Double?
        var first = true
        while true {
            switch s.next(&first) {
            case .fail: return nil
            case .end:
                guard let enabled, let callback else { return nil }
                let state = TrailingState(
                    enabled: enabled, callbackPct: callback, activationPrice: activation,
                    bestPrice: best, stopPrice: stop)
                do { try state.validate(path: "trailing") } catch { return nil }
                return state
            case .key(let key):
                switch key {
                case "enabled":
                    guard seen.insert(0) else { return nil }
                    enabled = s.bool()
                case "callback_pct":
                    guard seen.insert(1) else { return nil }
                    callback = s.number()
                case "activation_price":
                    guard seen.insert(2) else { return nil }
                    activation = s.optionalNumber()
                case "best_price":
                    guard seen.insert(3) else { return nil }
                    best = s.optionalNumber()
                case "stop_price":
                    guard seen.insert(4) else { return nil }
                    stop = s.optionalNumber()
                default: return nil
                }
                guard !s.failed else { return nil }
            }
        }
    }

    private static func context(_ s: inout JSONScanner) -> PlanContext? {
        guard s.open("{") else { return nil }
        var seen = KeySet()
        var context = PlanContext()
        var first = true
        while true {
            switch s.next(&first) {
            case .fail: return nil
            case .end:
                do { try context.validate() } catch { return nil }
                return context
            case .key(let key):
                switch key {
                case "rl_hints":
                    guard seen.insert(0) else { return nil }
                    if !s.null() {
                        guard let value = hints(&s) else { return nil }
                        context.rlHints = value
                    }
                case "risk_context":
                    guard seen.insert(1) else { return nil }
                    if !s.null() {
                        guard let value = risk(&s) else { return nil }
                        context.riskContext = value
                    }
                case "market_data":
                    guard seen.insert(2) else { return nil }
                    if !s.null() {
                        guard let value = market(&s) else { return nil }
                        context.marketData = value
                    }
                default: return nil
                }
                guard !s.failed else { return nil }
            }
        }
    }

    private static func hints(_ s: inout JSONScanner) -> RLHints? {
        guard s.open("{") else { return nil }
        var seen = KeySet()
        var hints = RLHints()
        var first = true
        while true {
            switch s.next(&first) {
            case .fail: return nil
            case .end: return hints
            case .key(let key):
                switch key {
                case "tp_target_pct":
                    guard seen.insert(0) else { return nil }
                    hints.tpTargetPct = s.optionalNumber()
                case "sl_target_pct":
                    guard seen.insert(1) else { return nil }
                    hints.slTargetPct = s.optionalNumber()
                case "trail_callback_pct":
                    guard seen.insert(2) else { return nil }
                    hints.trailCallbackPct = s.optionalNumber()
                case "confidence":
                    guard seen.insert(3) else { return nil }
                    hints.confidence = s.optionalNumber()
                default: return nil
                }
                guard !s.failed else { return nil }
            }
        }
    }

    private static func risk(_ s: inout JSONScanner) -> RiskContext? {
        guard s.open("{") else { return nil }
        var seen = KeySet()
        var risk = RiskContext()
        var first = true
        while true {
            switch s.next(&first) {
            case .fail: return nil
            case .end: return risk
            case .key(let key):
                switch key {
                case "risk_mode":
                    guard seen.insert(0) else { return nil }
                    if !s.null() {
                        guard let mode: RiskMode = s.word() else { return nil }
                        risk.riskMode = mode
                    }
                case "max_loss_pct":
                    guard seen.insert(1) else { return nil }
                    risk.maxLossPct = s.optionalNumber()
                default: return nil
                }
                guard !s.failed else { return nil }
            }
        }
    }

    private static func market(_ s: inout JSONScanner) -> MarketData? {
        guard s.open("{") else { return nil }
        var seen = KeySet()
        var market = MarketData()
        var first = true
        while true {
            switch s.next(&first) {
            case .fail: return nil
            case .end: return market
            case .key(let key):
                switch key {
                case "volatility":
                    guard seen.insert(0) else { return nil }
                    market.volatility = s.optionalNumber()
                case "trend_strength":
                    guard seen.insert(1) else { return nil }
                    market.trendStrength = s.optionalNumber()
                case "regime":
                    guard seen.insert(2) else { return nil }
                    if !s.null() {
                        guard let regime: MarketRegime = s.word() else { return nil }
                        market.regime = regime
                    }
                case "atr_pct":
                    guard seen.insert(3) else { return nil }
                    market.atrPct = s.optionalNumber()
                default: return nil
                }
                guard !s.failed else { return nil }
            }
        }
    }

    /// The canonical snapshot only (the keys this service writes); seed-style aliases, numbers
    /// as strings and nulls for numbers go to the Codable path.
    private static func snapshot(_ s: inout JSONScanner) -> PositionSnapshot? {
        guard s.open("{") else { return nil }
        var seen = KeySet()
        var symbol: String?
        var side: PositionSide?
        var quantity: Double?
        var entry: Double?
        var mark: Double?
        var leverage: Double?
        var pnl: Double?
        var opened: Date?
        var updated: Date?
        var first = true
        while true {
            switch s.next(&first) {
            case .fail: return nil
            case .end:
                guard let symbol, let side, let quantity, let entry else { return nil }
                let markPrice = mark ?? entry
                let snapshot = PositionSnapshot(
                    symbol: symbol, side: side, quantity: quantity, entryPrice: entry, markPrice: markPrice,
                    leverage: leverage ?? 1, unrealizedPnl: pnl ?? (markPrice - entry) * quantity * side.sign,
                    openedAt: opened, updatedAt: updated)
                do { try snapshot.validate() } catch { return nil }
                return snapshot
            case .key(let key):
                switch key {
                case "symbol":
                    guard seen.insert(0) else { return nil }
                    symbol = s.string()
                case "side":
                    guard seen.insert(1) else { return nil }
                    side = s.word()
                case "quantity":
                    guard seen.insert(2) else { return nil }
                    quantity = s.number()
                case "entry_price":
                    guard seen.insert(3) else { return nil }
                    entry = s.number()
                case "mark_price":
                    guard seen.insert(4) else { return nil }
                    mark = s.number()
                case "leverage":
                    guard seen.insert(5) else { return nil }
                    leverage = s.number()
                case "unrealized_pnl":
                    guard seen.insert(6) else { return nil }
                    pnl = s.number()
                case "opened_at":
                    guard seen.insert(7) else { return nil }
                    if !s.null() {
                        guard let at = s.timestamp() else { return nil }
                        opened = at
                    }
                case "updated_at":
                    guard seen.insert(8) else { return nil }
                    if !s.null() {
                        guard let at = s.timestamp() else { return nil }
                        updated = at
                    }
                default: return nil
                }
                guard !s.failed else { return nil }
            }
        }
    }
}

/// Which keys of an object were seen (duplicates go to the Codable path).
struct KeySet {
    private var bits: UInt32 = 0

    /// False when `index` was seen before.
    mutating func insert(_ index: Int) -> Bool {
        let bit: UInt32 = 1 << UInt32(index)
        guard bits & bit == 0 else { return false }
        bits |= bit
        return true
    }
}

/// A strict, forward-only JSON reader for the fast paths. A read that does not match sets
/// `failed` (or returns nil) and the caller gives up; it never guesses.
package struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0
    package var failed = false

    package init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    package enum Step {
        case key(String)
        case end
        case fail
    }

    mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    /// Consumes `byte` after optional space.
    package mutating func open(_ byte: Unicode.Scalar) -> Bool {
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(byte.value) else { return false }
        i += 1
        return true
    }

    package mutating func close(_ byte: Unicode.Scalar) -> Bool { open(byte) }

    /// The next key of an object, or its end.
    package mutating func next(_ first: inout Bool) -> Step {
        if close("}") { return .end }
        if first {
            first = false
        } else {
            guard close(",") else { return .fail }
        }
        skipSpace()
        guard let key = rawString(), open(":") else { return .fail }
        skipSpace()
        return .key(key)
    }

    package mutating func atEnd() -> Bool {
        skipSpace()
        return i == bytes.count
    }

    /// A string of printable ASCII without escapes.
    private mutating func rawString() -> String? {
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
        let start = i + 1
        var j = start
        while j < bytes.count {
            let b = bytes[j]
            if b == UInt8(ascii: "\"") {
                i = j + 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<j]), as: UTF8.self)
            }
            guard b >= 0x20, b < 0x80, b != UInt8(ascii: "\\") else { return nil }
            j += 1
        }
        return nil
    }

    package mutating func string() -> String? {
        skipSpace()
        guard let text = rawString() else {
            failed = true
            return nil
        }
        return text
    }

    package mutating func word<W: RawRepresentable>() -> W? where W.RawValue == String {
        guard let text = string(), let word = W(rawValue: text) else {
            failed = true
            return nil
        }
        return word
    }

    package mutating func timestamp() -> Date? {
        guard let text = string(), let date = Timestamp.parse(text) else {
            failed = true
            return nil
        }
        return date
    }

    /// Consumes `null` if it is next.
    package mutating func null() -> Bool {
        skipSpace()
        guard i + 4 <= bytes.count, bytes[i] == UInt8(ascii: "n"), bytes[i + 1] == UInt8(ascii: "u"),
            bytes[i + 2] == UInt8(ascii: "l"), bytes[i + 3] == UInt8(ascii: "l")
        else { return false }
        i += 4
        return true
    }

    mutating func bool() -> Bool? {
        skipSpace()
        if i + 4 <= bytes.count, bytes[i] == UInt8(ascii: "t"), bytes[i + 1] == UInt8(ascii: "r"),
            bytes[i + 2] == UInt8(ascii: "u"), bytes[i + 3] == UInt8(ascii: "e")
        {
            i += 4
            return true
        }
        if i + 5 <= bytes.count, bytes[i] == UInt8(ascii: "f"), bytes[i + 1] == UInt8(ascii: "a"),
            bytes[i + 2] == UInt8(ascii: "l"), bytes[i + 3] == UInt8(ascii: "s"), bytes[i + 4] == UInt8(ascii: "e")
        {
            i += 5
            return false
        }
        failed = true
        return nil
    }

    /// `null` or a number.
    mutating func optionalNumber() -> Double? {
        null() ? nil : number()
    }

    /// A JSON number (strict grammar), finite.
    package mutating func number() -> Double? {
        skipSpace()
        let start = i
        var j = i
        func digit(_ k: Int) -> Bool { k < bytes.count && bytes[k] >= UInt8(ascii: "0") && bytes[k] <= UInt8(ascii: "9") }
        if j < bytes.count, bytes[j] == UInt8(ascii: "-") { j += 1 }
        guard digit(j) else { return fail() }
        if bytes[j] == UInt8(ascii: "0") {
            j += 1
        } else {
            while digit(j) { j += 1 }
        }
        if j < bytes.count, bytes[j] == UInt8(ascii: ".") {
            j += 1
            guard digit(j) else { return fail() }
            while digit(j) { j += 1 }
        }
        if j < bytes.count, bytes[j] == UInt8(ascii: "e") || bytes[j] == UInt8(ascii: "E") {
            j += 1
            if j < bytes.count, bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-") { j += 1 }
            guard digit(j) else { return fail() }
            while digit(j) { j += 1 }
        }
        let length = j - start
        guard length < 64 else { return fail() }
        // The text is a JSON number by now; the standard library's parser is locale-independent
        // (strtod would read "1.5" as 1 under a locale with a decimal comma).
        guard let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<j]), as: UTF8.self)),
            value.isFinite
        else { return fail() }
        i = j
        return value
    }

    /// A JSON integer without fraction or exponent.
    package mutating func int() -> Int? {
        skipSpace()
        var j = i
        var negative = false
        if j < bytes.count, bytes[j] == UInt8(ascii: "-") {
            negative = true
            j += 1
        }
        var value = 0
        var digits = 0
        while j < bytes.count, bytes[j] >= UInt8(ascii: "0"), bytes[j] <= UInt8(ascii: "9") {
            value = value * 10 + Int(bytes[j] - UInt8(ascii: "0"))
            digits += 1
            j += 1
            guard digits <= 15 else { return failInt() }
        }
        guard digits > 0, !(digits > 1 && bytes[j - digits] == UInt8(ascii: "0")) else { return failInt() }
        if j < bytes.count, bytes[j] == UInt8(ascii: ".") || bytes[j] == UInt8(ascii: "e") || bytes[j] == UInt8(ascii: "E") {
            return failInt()
        }
        i = j
        return negative ? -value : value
    }

    private mutating func fail() -> Double? {
        failed = true
        return nil
    }

    private mutating func failInt() -> Int? {
        failed = true
        return nil
    }
}
