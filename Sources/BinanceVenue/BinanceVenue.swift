import AsyncHTTPClient
import BinanceProtocol
import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import Venue

/// Binance USD-M futures as a ``Venue`` (docs/contract.md §11, BINANCE_NOTES.md): entries as
/// `MARKET` orders with `newOrderRespType=RESULT`, stops and take-profits through the Algo Order
/// API, positions from `positionRisk` and `ACCOUNT_UPDATE`, fills from the user data stream,
/// mark prices from the market stream. The position mode is read at start: hedge orders carry
/// `positionSide` and never `reduceOnly`; one-way exits carry `reduceOnly=true`.
public actor BinanceVenue: Venue {
    public nonisolated let kind = "binance"

    let settings: BinanceSettings
    let rest: BinanceREST
    let logger: Logger
    let client: HTTPClient
    let clock = ContinuousClock()
    var rulesCache: [String: SymbolRules] = [:]
    var rulesReadAt: ContinuousClock.Instant?
    var hedge: Bool?
    var translator = UserStreamTranslator(hedge: false)
    /// Open positions as last read or updated by the stream.
    var positionCache: [PositionKey: VenuePosition] = [:]
    /// Positions as the user stream last reported them (its changes are what it emits).
    var streamedPositions: [PositionKey: VenuePosition] = [:]
    var leverageSet: [String: Int] = [:]
    var subscribers: [Int: AsyncStream<VenueEvent>.Continuation] = [:]
    var nextSubscriber = 0
    var streamsStarted = false
    var streamTasks: [Task<Void, Never>] = []
    /// `CONNECTING`, `CONNECTED`, `RECONNECTING`.
    var userStreamState = "NOT_STARTED"
    var lastEventAt: ContinuousClock.Instant?
    /// Symbols whose mark price is followed, and the requests for the market connection.
    var markSymbols: Set<String> = []
    var markRequests: AsyncStream<String>.Continuation?
    var nextMarkRequest = 1

    /// An adapter over its own HTTP client (shut down by ``shutdown()``).
    public init(settings: BinanceSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        client = HTTPClient(eventLoopGroupProvider: .singleton)
        rest = BinanceREST(settings: settings, client: client, logger: logger)
    }

    /// Stops the streams and the HTTP client.
    public func shutdown() async {
        for task in streamTasks { task.cancel() }
        for (_, subscriber) in subscribers { subscriber.finish() }
        subscribers = [:]
        try? await client.shutdown()
    }

    // MARK: - start

    /// Server time, symbol rules and position mode, read once (rules again when a symbol is new).
    func prepare() async throws(VenueError) {
        if hedge != nil, !rulesCache.isEmpty { return }
        try await rest.syncTime()
        try await readRules()
        let body = try await rest.call(.GET, "/fapi/v1/positionSide/dual", security: .signed)
        guard let mode = try? JSONDecoder().decode(PositionModeAnswer.self, from: Data(body)) else {
            throw .unreachable(message: "positionSide/dual: answer not readable")
        }
        hedge = mode.dualSidePosition
        translator.hedge = mode.dualSidePosition
        logger.info("venue ready", metadata: ["venue": "\(settings)", "position_mode": "\(mode.dualSidePosition ? "HEDGE" : "ONE_WAY")"])
    }

    func readRules() async throws(VenueError) {
        let body = try await rest.call(.GET, "/fapi/v1/exchangeInfo", security: .none)
        guard let info = try? JSONDecoder().decode(ExchangeInfo.self, from: Data(body)) else {
            throw .unreachable(message: "exchangeInfo: answer not readable")
        }
        var rules = [String: SymbolRules]()
        for symbol in info.symbols where symbol.status == "TRADING" {
            if let r = symbol.rules { rules[symbol.symbol] = r }
        }
        rulesCache = rules
        rulesReadAt = clock.now
    }

    // MARK: - Venue

    public func rules(for symbol: String) async throws(VenueError) -> SymbolRules {
        try await prepare()
        follow(symbol)
        if let rules = rulesCache[symbol] { return rules }
        if rulesReadAt.map({ clock.now - $0 > .seconds(60) }) ?? true { try await readRules() }
        guard let rules = rulesCache[symbol] else { throw .refused(code: BinanceCode.badSymbol.rawValue, message: "Invalid symbol \(symbol).") }
        return rules
    }

    public func place(_ request: OrderRequest) async throws(VenueError) -> OrderUpdate {
        let rules = try await rules(for: request.symbol)
        let hedge = self.hedge ?? false
        translator.know(request.clientOrderId)
        if request.purpose == .entry, let leverage = request.leverage { await setLeverage(request.symbol, leverage) }
        let (path, params) = try Self.parameters(of: request, rules: rules, hedge: hedge, workingType: settings.workingType)
        let body: [UInt8]
        do {
            body = try await rest.call(
                .POST, path, params, security: .signed, mutating: true, priority: request.reduceOnly, clientOrderId: request.clientOrderId)
        } catch .refused(let code, _) where code == BinanceCode.duplicateClientOrderId.rawValue {
            // -4116: an order under this id is already open (an earlier send got through).
            return try await query(clientOrderId: request.clientOrderId, symbol: request.symbol, conditional: request.type.isConditional)
        }
        if request.type.isConditional {
            guard let algo = try? JSONDecoder().decode(AlgoOrderAnswer.self, from: Data(body)) else {
                throw .unknownOutcome(message: "algoOrder: answer not readable")
            }
            return try await update(of: algo)
        }
        guard let order = try? JSONDecoder().decode(OrderAnswer.self, from: Data(body)) else {
            throw .unknownOutcome(message: "order: answer not readable")
        }
        return Self.update(of: order)
    }

    public func cancel(clientOrderId: String, symbol: String, conditional: Bool) async throws(VenueError) {
        try await prepare()
        var params = QueryString()
        if conditional {
            params.append("clientAlgoId", clientOrderId)
            _ = try await rest.call(
                .DELETE, "/fapi/v1/algoOrder", params, security: .signed, mutating: true, priority: true, clientOrderId: clientOrderId)
        } else {
            params.append("symbol", symbol)
            params.append("origClientOrderId", clientOrderId)
            _ = try await rest.call(
                .DELETE, "/fapi/v1/order", params, security: .signed, mutating: true, priority: true, clientOrderId: clientOrderId)
        }
    }

    public func query(clientOrderId: String, symbol: String, conditional: Bool) async throws(VenueError) -> OrderUpdate {
        try await prepare()
        translator.know(clientOrderId)
        var params = QueryString()
        if conditional {
            params.append("clientAlgoId", clientOrderId)
            let body = try await rest.call(.GET, "/fapi/v1/algoOrder", params, security: .signed, priority: true, clientOrderId: clientOrderId)
            guard let algo = try? JSONDecoder().decode(AlgoOrderAnswer.self, from: Data(body)) else {
                throw .unreachable(message: "algoOrder: answer not readable")
            }
            return try await update(of: algo)
        }
        params.append("symbol", symbol)
        params.append("origClientOrderId", clientOrderId)
        let body = try await rest.call(.GET, "/fapi/v1/order", params, security: .signed, priority: true, clientOrderId: clientOrderId)
        guard let order = try? JSONDecoder().decode(OrderAnswer.self, from: Data(body)) else {
            throw .unreachable(message: "order: answer not readable")
        }
        return Self.update(of: order)
    }

    public func openOrders() async throws(VenueError) -> [OpenOrder] {
        try await prepare()
        let regular = try await rest.call(.GET, "/fapi/v1/openOrders", security: .signed)
        let algo = try await rest.call(.GET, "/fapi/v1/openAlgoOrders", security: .signed)
        guard let orders = try? JSONDecoder().decode([OrderAnswer].self, from: Data(regular)),
            let algos = try? JSONDecoder().decode([AlgoOrderAnswer].self, from: Data(algo))
        else { throw .unreachable(message: "open orders: answer not readable") }
        var open = orders.map { OpenOrder(clientOrderId: $0.clientOrderId, symbol: $0.symbol, conditional: false) }
        open += algos.map { OpenOrder(clientOrderId: $0.clientAlgoId, symbol: $0.symbol, conditional: true) }
        for order in open {
            translator.know(order.clientOrderId)
            follow(order.symbol)
        }
        return open
    }

    public func positions() async throws(VenueError) -> [VenuePosition] {
        try await prepare()
        let rows = try await positionRows(symbol: nil)
        positionCache = Dictionary(rows.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for row in rows { follow(row.key.symbol) }
        return rows
    }

    public func position(_ key: PositionKey) async throws(VenueError) -> VenuePosition? {
        try await prepare()
        let rows = try await positionRows(symbol: key.symbol)
        for side in PositionSide.allCases {
            let k = PositionKey(symbol: key.symbol, side: side)
            positionCache[k] = rows.first { $0.key == k }
        }
        return positionCache[key]
    }

    public func markPrice(_ symbol: String) async throws(VenueError) -> Decimal? {
        follow(symbol)
        var params = QueryString()
        params.append("symbol", symbol)
        let body = try await rest.call(.GET, "/fapi/v1/premiumIndex", params, security: .none)
        struct Premium: Decodable {
            var markPrice: String
        }
        guard let premium = try? JSONDecoder().decode(Premium.self, from: Data(body)), let price = Decimal(plainText: premium.markPrice),
            price > 0
        else { throw .unreachable(message: "premiumIndex: answer not readable") }
        return price
    }

    public nonisolated func observe(symbol: String, price: Decimal) async {
        // Binance's own mark price stream drives decisions; bus ticks are not used.
    }

    public func events() async -> AsyncStream<VenueEvent> {
        let (stream, continuation) = AsyncStream<VenueEvent>.makeStream(bufferingPolicy: .unbounded)
        nextSubscriber += 1
        let id = nextSubscriber
        subscribers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        startStreams()
        return stream
    }

    private func unsubscribe(_ id: Int) { subscribers[id] = nil }

    public func health() async -> VenueHealth {
        let now = clock.now
        let budget = await rest.budget
        let reachable = await rest.reachable
        let keyRefused = await rest.keyRefused
        var details: [(String, String)] = []
        if let latency = await rest.lastLatencyMs { details.append(("rest_latency_ms", String(format: "%.1f", latency))) }
        details.append(("user_stream", userStreamState))
        if let last = lastEventAt { details.append(("last_event_age_s", String(format: "%.1f", (now - last).secondsValue))) }
        details.append(("clock_offset_ms", String(await rest.offsetMs)))
        details.append(("weight_used_1m", String(budget.weightUsed)))
        details.append(("position_mode", hedge.map { $0 ? "HEDGE" : "ONE_WAY" } ?? "UNKNOWN"))
        if budget.banned(now: now) {
            details.append(("note", "banned by the venue (HTTP 418): nothing is sent until the ban ends"))
        } else if budget.limited(now: now) {
            details.append(("note", "rate limited (HTTP 429): backing off; exits keep priority"))
        }
        if keyRefused { details.append(("note", "the venue refuses the API key or its signatures")) }
        let up = reachable && !keyRefused && !budget.banned(now: now) && hedge != nil
        let alarm: (code: String, message: String)? =
            budget.banned(now: now)
            ? ("VENUE_BANNED", "the venue banned this IP (HTTP 418): no order can be sent until the ban ends")
            : keyRefused ? ("VENUE_KEY_REFUSED", "the venue refuses the API key or its signatures: no order can be sent") : nil
        return VenueHealth(
            kind: kind, reachable: up, degraded: budget.limited(now: now) || userStreamState != "CONNECTED", details: details, alarm: alarm)
    }

    // MARK: - helpers

    func emit(_ event: VenueEvent) {
        for (_, subscriber) in subscribers { subscriber.yield(event) }
    }

    func setLeverage(_ symbol: String, _ leverage: Double) async {
        let wanted = min(125, max(1, Int(leverage.rounded())))
        guard leverageSet[symbol] != wanted else { return }
        var params = QueryString()
        params.append("symbol", symbol)
        params.append("leverage", String(wanted))
        do {
            _ = try await rest.call(.POST, "/fapi/v1/leverage", params, security: .signed, mutating: true)
            leverageSet[symbol] = wanted
        } catch {
            logger.warning(
                "leverage not set; the entry goes at the symbol's current leverage", metadata: ["symbol": "\(symbol)", "error": "\(error)"])
        }
    }

    func positionRows(symbol: String?) async throws(VenueError) -> [VenuePosition] {
        var params = QueryString()
        if let symbol { params.append("symbol", symbol) }
        let body = try await rest.call(.GET, "/fapi/v2/positionRisk", params, security: .signed, priority: true)
        guard let rows = try? JSONDecoder().decode([PositionRiskRow].self, from: Data(body)) else {
            throw .unreachable(message: "positionRisk: answer not readable")
        }
        var out = [VenuePosition]()
        for row in rows {
            guard let amount = Decimal(plainText: row.positionAmt), amount != 0, let entry = Decimal(plainText: row.entryPrice) else { continue }
            for (side, quantity) in UserStreamTranslator.sides(amount: amount, positionSide: row.positionSide) where quantity > 0 {
                out.append(
                    VenuePosition(
                        key: PositionKey(symbol: row.symbol, side: side), quantity: quantity, entryPrice: entry,
                        markPrice: Decimal(plainText: row.markPrice), leverage: row.leverage.flatMap(Double.init)))
            }
        }
        return out
    }

    /// The endpoint and parameters of an order: MARKET to `/fapi/v1/order` with `RESULT`, the
    /// conditional types to the Algo Order API; quantities and triggers as decimal text on the
    /// symbol's step and tick; `positionSide` in hedge mode, `reduceOnly` on one-way exits.
    public static func parameters(
        of request: OrderRequest, rules: SymbolRules, hedge: Bool, workingType: String
    ) throws(VenueError) -> (path: String, params: QueryString) {
        var params = QueryString()
        params.append("symbol", request.symbol)
        params.append("side", request.side.rawValue)
        if hedge {
            params.append("positionSide", request.positionSide.rawValue)
        } else if request.reduceOnly {
            params.append("reduceOnly", "true")
        }
        params.append("type", request.type.rawValue)
        params.append("quantity", rules.quantityText(request.quantity, for: request.type))
        guard request.type.isConditional else {
            params.append("newClientOrderId", request.clientOrderId)
            params.append("newOrderRespType", "RESULT")
            return ("/fapi/v1/order", params)
        }
        guard let trigger = request.triggerPrice else {
            throw .refused(code: BinanceCode.mandatoryParamMissing.rawValue, message: "a conditional order needs a trigger price")
        }
        params.append("algoType", "CONDITIONAL")
        params.append("triggerPrice", rules.priceText(trigger))
        params.append("workingType", workingType)
        params.append("clientAlgoId", request.clientOrderId)
        return ("/fapi/v1/algoOrder", params)
    }

    /// A conditional order's state as an update: its child's fills once triggered.
    func update(of algo: AlgoOrderAnswer) async throws(VenueError) -> OrderUpdate {
        let algoId = String(algo.algoId)
        switch algo.algoStatus {
        case "NEW", "TRIGGERING":
            return .accepted(venueOrderId: nil, venueAlgoId: algoId)
        case "TRIGGERED", "FINISHED":
            if let child = algo.actualOrderId, !child.isEmpty {
                var params = QueryString()
                params.append("symbol", algo.symbol)
                params.append("orderId", child)
                if let body = try? await rest.call(.GET, "/fapi/v1/order", params, security: .signed, priority: true),
                    let order = try? JSONDecoder().decode(OrderAnswer.self, from: Data(body))
                {
                    let update = Self.update(of: order)
                    if case .accepted = update { return .accepted(venueOrderId: child, venueAlgoId: algoId) }
                    return update
                }
            }
            if let filled = algo.executedQty.flatMap(Decimal.init(plainText:)), filled > 0 {
                return .filled(cumulative: filled, averagePrice: algo.avgPrice.flatMap(Decimal.init(plainText:)), venueOrderId: algo.actualOrderId)
            }
            return algo.algoStatus == "FINISHED" ? .expired : .accepted(venueOrderId: algo.actualOrderId, venueAlgoId: algoId)
        case "CANCELED": return .canceled
        case "EXPIRED": return .expired
        default: return .rejected(code: nil, message: "conditional order \(algo.algoStatus)")
        }
    }

    /// A regular order's state as an update (a status that says nothing more: still accepted).
    static func update(of order: OrderAnswer) -> OrderUpdate {
        OrderStatusMapping.update(status: order.status, cumulative: order.executedQty, average: order.avgPrice, orderId: order.orderId)
            ?? .accepted(venueOrderId: String(order.orderId), venueAlgoId: nil)
    }
}
