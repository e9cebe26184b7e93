import BinanceProtocol
import ExitBrainDomain
import Foundation
import Venue

extension SimulatedExchange {
    static let algoTypes: Set<String> = ["STOP_MARKET", "TAKE_PROFIT_MARKET"]
    static let conditionalTypes: Set<String> = ["STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"]
    static let maxAlgoOrders = 10

    // MARK: - parameters

    func symbol(_ params: QueryString) throws(SimRefusal) -> (String, SymbolRules) {
        guard let symbol = params["symbol"] else {
            throw SimRefusal(.mandatoryParamMissing, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        }
        guard let rules = symbolRules[symbol] else { throw SimRefusal(.badSymbol) }
        return (symbol, rules)
    }

    func decimal(_ params: QueryString, _ name: String, places: Int) throws(SimRefusal) -> Decimal? {
        guard let text = params[name] else { return nil }
        guard let value = Decimal(plainText: text), value > 0 else {
            throw SimRefusal(.invalidParameter, "Invalid \(name).")
        }
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            let significant = text[text.index(after: dot)...].reversed().drop { $0 == "0" }.count
            if decimals > places, significant > places { throw SimRefusal(.badPrecision) }
        }
        return value
    }

    static func validClientId(_ id: String) -> Bool {
        guard (1...36).contains(id.utf8.count) else { return false }
        return id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            case UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "_"), UInt8(ascii: "-"): true
            default: false
            }
        }
    }

    /// The position side an order works on, under the account's mode: hedge wants LONG or
    /// SHORT and no `reduceOnly`; one-way wants BOTH (or nothing).
    func positionSide(_ params: QueryString, side: String) throws(SimRefusal) -> (side: String, reduceOnly: Bool) {
        let sent = params["positionSide"]
        if hedge {
            guard let sent, sent == "LONG" || sent == "SHORT" else { throw SimRefusal(.positionSideMismatch) }
            if params.contains("reduceOnly") || params.contains("reduceonly") { throw SimRefusal(.parameterNotRequired) }
            let reduces = (sent == "LONG") == (side == "SELL")
            return (sent, reduces)
        }
        guard sent == nil || sent == "BOTH" else { throw SimRefusal(.positionSideMismatch) }
        let reduceOnly = (params["reduceOnly"] ?? params["reduceonly"])?.lowercased() == "true"
        return ("BOTH", reduceOnly)
    }

    /// What a reduce-only order of `side` may take from the position: nil when it would not reduce.
    func reducible(_ symbol: String, positionSide: String, side: String) -> Decimal {
        let amount = positions[Self.positionKey(symbol, positionSide)]?.amount ?? 0
        if hedge { return abs(amount) }
        if side == "SELL" { return amount > 0 ? amount : 0 }
        return amount < 0 ? -amount : 0
    }

    // MARK: - regular orders

    func placeOrder(_ params: QueryString, now: Int64) throws(SimRefusal) -> SimResponse {
        let (symbol, rules) = try symbol(params)
        guard let side = params["side"], side == "BUY" || side == "SELL" else { throw SimRefusal(.invalidSide) }
        guard let type = params["type"] else {
            throw SimRefusal(.mandatoryParamMissing, "Mandatory parameter 'type' was not sent, was empty/null, or malformed.")
        }
        if Self.conditionalTypes.contains(type) { throw SimRefusal(.useAlgoOrderAPI) }
        guard type == "MARKET" else { throw SimRefusal(.invalidOrderType, "The simulator fills MARKET orders only.") }
        let (ps, reduceOnly) = try positionSide(params, side: side)
        guard let quantity = try decimal(params, "quantity", places: rules.marketStepSize.decimalPlaces) else {
            throw SimRefusal(.mandatoryParamMissing, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
        }
        let clientId = params["newClientOrderId"] ?? "sim_" + String(nextOrderId + 1)
        guard Self.validClientId(clientId) else { throw SimRefusal(.clientOrderIdInvalid) }
        submissions[clientId, default: 0] += 1
        if let existing = orderIdsByClient[clientId], let order = orders[existing], order.status == "NEW" {
            throw SimRefusal(.duplicateClientOrderId)
        }
        let price = prices[symbol]!
        if let violation = rules.violation(quantity: quantity, price: nil, type: .market, reduceOnly: reduceOnly) {
            throw refusal(from: violation)
        }
        if !reduceOnly, quantity * price < rules.minNotional { throw SimRefusal(.notionalTooSmall) }
        if reduceOnly, quantity > reducible(symbol, positionSide: ps, side: side) { throw SimRefusal(.reduceOnlyRejected) }
        nextOrderId += 1
        let id = nextOrderId
        var order = OrderAnswer(
            orderId: id, symbol: symbol, status: "NEW", clientOrderId: clientId, avgPrice: "0.00", origQty: params["quantity"]!,
            executedQty: "0", cumQuote: "0.00000", type: "MARKET", reduceOnly: reduceOnly && !hedge, side: side, positionSide: ps,
            time: now, updateTime: now)
        orders[id] = order
        orderIdsByClient[clientId] = id
        acceptances[clientId, default: 0] += 1
        emitOrder(order, execution: "NEW", last: 0, lastPrice: 0, realized: 0, now: now)
        let acknowledged = order
        order = fill(order, quantity: quantity, price: price, rules: rules, now: now)
        // ACK (the default) answers with the order as accepted; RESULT with its final state.
        return .json(200, params["newOrderRespType"] == "RESULT" ? order : acknowledged)
    }

    /// Fills a MARKET order (an entry, an exit, or a triggered algo's child) at `price`: the
    /// position moves, the account and order events go out (the account's first, as Binance
    /// has been seen to send them).
    @discardableResult
    func fill(_ order: OrderAnswer, quantity: Decimal, price: Decimal, rules: SymbolRules, now: Int64) -> OrderAnswer {
        let key = Self.positionKey(order.symbol, order.positionSide)
        var position = positions[key] ?? Position()
        let signed = order.side == "BUY" ? quantity : -quantity
        var realized: Decimal = 0
        let before = position.amount
        let after = before + signed
        if before == 0 || (before > 0) == (signed > 0) {
            position.entry = (position.entry * abs(before) + price * quantity) / abs(after)
        } else {
            let closed = min(abs(before), quantity)
            realized = (price - position.entry) * closed * (before > 0 ? 1 : -1)
            if after != 0, (after > 0) != (before > 0) { position.entry = price }
        }
        position.amount = after
        if after == 0 { position.entry = 0 }
        position.entry = position.entry.rounded(toMultipleOf: Decimal(string: "0.00000001")!, .plain)
        position.updated = now
        positions[key] = position
        var filled = order
        filled.status = "FILLED"
        filled.executedQty = quantity.text(places: rules.stepSize.decimalPlaces)
        filled.cumQty = filled.executedQty
        filled.avgPrice = price.text(places: rules.tickSize.decimalPlaces)
        filled.cumQuote = (price * quantity).text(places: 5)
        filled.updateTime = now
        orders[order.orderId] = filled
        emitAccount(order.symbol, now: now)
        emitOrder(filled, execution: "TRADE", last: quantity, lastPrice: price, realized: realized, now: now)
        return filled
    }

    func findOrder(_ params: QueryString, unknown: BinanceCode) throws(SimRefusal) -> OrderAnswer {
        _ = try symbol(params)
        if let id = params["orderId"].flatMap({ Int64($0) }), let order = orders[id] { return order }
        if let client = params["origClientOrderId"], let id = orderIdsByClient[client], let order = orders[id] { return order }
        throw SimRefusal(unknown)
    }

    func cancelOrder(_ params: QueryString) throws(SimRefusal) -> SimResponse {
        let order = try findOrder(params, unknown: .cancelRejected)
        // MARKET orders never rest: nothing here is ever open to cancel.
        guard order.status == "NEW" || order.status == "PARTIALLY_FILLED" else { throw SimRefusal(.cancelRejected) }
        var canceled = order
        canceled.status = "CANCELED"
        orders[order.orderId] = canceled
        return .json(200, canceled)
    }

    func openOrders(_ params: QueryString) -> [OrderAnswer] {
        orders.values.filter { ($0.status == "NEW" || $0.status == "PARTIALLY_FILLED") && (params["symbol"] == nil || $0.symbol == params["symbol"]) }
            .sorted { $0.orderId < $1.orderId }
    }

    func refusal(from violation: VenueError) -> SimRefusal {
        switch violation {
        case .refused(let code, let message): SimRefusal(BinanceCode(rawValue: code) ?? .invalidParameter, message)
        default: SimRefusal(.invalidParameter, violation.description)
        }
    }

    // MARK: - conditional (algo) orders

    func placeAlgo(_ params: QueryString, now: Int64) throws(SimRefusal) -> SimResponse {
        guard let algoType = params["algoType"] else {
            throw SimRefusal(.mandatoryParamMissing, "Mandatory parameter 'algoType' was not sent, was empty/null, or malformed.")
        }
        guard algoType == "CONDITIONAL" else { throw SimRefusal(.invalidParameter, "Invalid algoType.") }
        let (symbol, rules) = try symbol(params)
        guard let side = params["side"], side == "BUY" || side == "SELL" else { throw SimRefusal(.invalidSide) }
        guard let type = params["type"], Self.conditionalTypes.contains(type) else { throw SimRefusal(.invalidOrderType) }
        guard Self.algoTypes.contains(type) else { throw SimRefusal(.invalidOrderType, "The simulator serves STOP_MARKET and TAKE_PROFIT_MARKET.") }
        let (ps, reduceOnly) = try positionSide(params, side: side)
        let closePosition = params["closePosition"]?.lowercased() == "true"
        let quantity = try decimal(params, "quantity", places: rules.stepSize.decimalPlaces)
        if closePosition, quantity != nil { throw SimRefusal(.closePositionWithQuantity) }
        if closePosition, params.contains("reduceOnly") { throw SimRefusal(.parameterNotRequired) }
        guard closePosition || quantity != nil else {
            throw SimRefusal(.mandatoryParamMissing, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
        }
        guard let trigger = try decimal(params, "triggerPrice", places: rules.tickSize.decimalPlaces) else {
            throw SimRefusal(.mandatoryParamMissing, "Mandatory parameter 'triggerPrice' was not sent, was empty/null, or malformed.")
        }
        if let quantity, let violation = rules.violation(quantity: quantity, price: trigger, type: .stopMarket, reduceOnly: true) {
            throw refusal(from: violation)
        }
        if trigger.rounded(toMultipleOf: rules.tickSize, .down) != trigger { throw SimRefusal(.priceNotOnTick) }
        let workingType = params["workingType"] ?? "CONTRACT_PRICE"
        guard workingType == "MARK_PRICE" || workingType == "CONTRACT_PRICE" else { throw SimRefusal(.invalidParameter, "Invalid workingType.") }
        let clientId = params["clientAlgoId"] ?? "sim" + String(nextAlgoId + 1)
        guard Self.validClientId(clientId) else { throw SimRefusal(.clientOrderIdInvalid) }
        submissions[clientId, default: 0] += 1
        if let existing = algoIdsByClient[clientId], let algo = algos[existing], Self.working(algo) {
            throw SimRefusal(.duplicateClientOrderId)
        }
        if algos.values.filter({ $0.symbol == symbol && Self.working($0) }).count >= Self.maxAlgoOrders {
            throw SimRefusal(.maxStopOrders)
        }
        if crossed(type: type, side: side, trigger: trigger, price: prices[symbol]!) { throw SimRefusal(.wouldImmediatelyTrigger) }
        nextAlgoId += 1
        let algo = AlgoOrderAnswer(
            algoId: nextAlgoId, clientAlgoId: clientId, orderType: type, symbol: symbol, side: side, positionSide: ps,
            quantity: params["quantity"] ?? "0", algoStatus: "NEW", triggerPrice: params["triggerPrice"]!, workingType: workingType,
            closePosition: closePosition, reduceOnly: reduceOnly && !hedge, createTime: now)
        algos[algo.algoId] = algo
        algoIdsByClient[clientId] = algo.algoId
        acceptances[clientId, default: 0] += 1
        emitAlgo(algo, now: now)
        return .json(200, algo)
    }

    /// Open: not yet triggered, or triggering (a stuck stop stays there).
    static func working(_ algo: AlgoOrderAnswer) -> Bool { algo.algoStatus == "NEW" || algo.algoStatus == "TRIGGERING" }

    /// True when a conditional order of `type` and `side` would trigger at `price`: a stop
    /// when the price has come against the position, a take-profit when in its favour.
    func crossed(type: String, side: String, trigger: Decimal, price: Decimal) -> Bool {
        let stop = type == "STOP_MARKET" || type == "STOP"
        switch (stop, side) {
        case (true, "SELL"), (false, "BUY"): return price <= trigger
        default: return price >= trigger
        }
    }

    func findAlgo(_ params: QueryString, unknown: BinanceCode) throws(SimRefusal) -> AlgoOrderAnswer {
        if let id = params["algoId"].flatMap({ Int64($0) }), let algo = algos[id] { return algo }
        if let client = params["clientAlgoId"], let id = algoIdsByClient[client], let algo = algos[id] { return algo }
        if params["algoId"] == nil, params["clientAlgoId"] == nil {
            throw SimRefusal(.mandatoryParamMissing, "Either algoId or clientAlgoId must be sent.")
        }
        throw SimRefusal(unknown)
    }

    func cancelAlgo(_ params: QueryString, now: Int64) throws(SimRefusal) -> SimResponse {
        var algo = try findAlgo(params, unknown: .cancelRejected)
        guard Self.working(algo) else { throw SimRefusal(.cancelRejected) }
        algo.algoStatus = "CANCELED"
        algo.updateTime = now
        algos[algo.algoId] = algo
        emitAlgo(algo, now: now)
        return .json(200, AlgoCancelAnswer(algoId: algo.algoId, clientAlgoId: algo.clientAlgoId))
    }

    func cancelAllAlgos(_ params: QueryString, now: Int64) throws(SimRefusal) -> SimResponse {
        let (symbol, _) = try symbol(params)
        for var algo in algos.values where algo.symbol == symbol && Self.working(algo) {
            algo.algoStatus = "CANCELED"
            algo.updateTime = now
            algos[algo.algoId] = algo
            emitAlgo(algo, now: now)
        }
        return .json(200, ["code": "200", "msg": "The operation of cancel all open order is done."])
    }

    func openAlgos(_ params: QueryString) -> [AlgoOrderAnswer] {
        algos.values.filter { Self.working($0) && (params["symbol"] == nil || $0.symbol == params["symbol"]) }
            .sorted { $0.algoId < $1.algoId }
    }

    /// Triggers the symbol's conditional orders the price has crossed: each becomes a MARKET
    /// child (a new order id; its client id is the algo's) filled at the price. The child's
    /// events go out before the algo's TRIGGERED, as in real captures.
    func checkTriggers(_ symbol: String) {
        guard let price = prices[symbol], let rules = symbolRules[symbol] else { return }
        let due = algos.values.filter {
            $0.symbol == symbol && $0.algoStatus == "NEW"
                && crossed(type: $0.orderType, side: $0.side, trigger: Decimal(plainText: $0.triggerPrice) ?? 0, price: price)
        }.sorted { $0.algoId < $1.algoId }
        for var algo in due {
            let now = serverTime
            if faults.stuckStops, algo.orderType == "STOP_MARKET" {
                if algo.algoStatus != "TRIGGERING" {
                    algo.algoStatus = "TRIGGERING"
                    algo.updateTime = now
                    algos[algo.algoId] = algo
                    emitAlgo(algo, now: now)
                }
                continue
            }
            let available = reducible(symbol, positionSide: algo.positionSide, side: algo.side)
            let wanted = algo.closePosition ? available : (Decimal(plainText: algo.quantity) ?? 0)
            let reduces = hedge || algo.reduceOnly || algo.closePosition
            let quantity = reduces ? min(wanted, available) : wanted
            guard quantity > 0 else {
                algo.algoStatus = "EXPIRED"
                algo.updateTime = now
                algos[algo.algoId] = algo
                emitAlgo(algo, now: now)
                continue
            }
            nextOrderId += 1
            let child = OrderAnswer(
                orderId: nextOrderId, symbol: symbol, status: "NEW", clientOrderId: algo.clientAlgoId, avgPrice: "0.00",
                origQty: quantity.text(places: rules.stepSize.decimalPlaces), executedQty: "0", cumQuote: "0.00000", type: "MARKET",
                reduceOnly: algo.reduceOnly, side: algo.side, positionSide: algo.positionSide, time: now, updateTime: now)
            orders[child.orderId] = child
            emitOrder(child, execution: "NEW", last: 0, lastPrice: 0, realized: 0, now: now)
            let filled = fill(child, quantity: quantity, price: price, rules: rules, now: now)
            algo.actualOrderId = String(child.orderId)
            algo.triggerTime = now
            algo.updateTime = now
            algo.algoStatus = "TRIGGERED"
            algos[algo.algoId] = algo
            emitAlgo(algo, now: now)
            algo.algoStatus = "FINISHED"
            algo.executedQty = filled.executedQty
            algo.avgPrice = filled.avgPrice
            algos[algo.algoId] = algo
            emitAlgo(algo, now: now)
        }
    }

    // MARK: - account

    func positionRows(symbol: String?) -> [(symbol: String, side: String, position: Position)] {
        var rows = [(symbol: String, side: String, position: Position)]()
        for s in symbolOrder where symbol == nil || s == symbol {
            for side in hedge ? ["LONG", "SHORT"] : ["BOTH"] {
                rows.append((s, side, positions[Self.positionKey(s, side)] ?? Position()))
            }
        }
        return rows
    }

    func positionRisk(_ params: QueryString, withLeverage: Bool) -> [PositionRiskRow] {
        positionRows(symbol: params["symbol"]).map { row in
            let mark = prices[row.symbol] ?? 0
            let rules = symbolRules[row.symbol]!
            let pnl = (mark - row.position.entry) * row.position.amount
            return PositionRiskRow(
                symbol: row.symbol, positionAmt: row.position.amount.text(places: rules.stepSize.decimalPlaces),
                entryPrice: row.position.entry.text(places: 8), markPrice: mark.text(places: 8), unRealizedProfit: pnl.text(places: 8),
                leverage: withLeverage ? String(leverage[row.symbol] ?? 20) : nil, positionSide: row.side,
                notional: (mark * row.position.amount).text(places: 8), updateTime: row.position.updated)
        }
    }

    func changePositionMode(_ params: QueryString) throws(SimRefusal) -> SimResponse {
        guard let text = params["dualSidePosition"]?.lowercased(), text == "true" || text == "false" else {
            throw SimRefusal(.mandatoryParamMissing, "Mandatory parameter 'dualSidePosition' was not sent, was empty/null, or malformed.")
        }
        let wanted = text == "true"
        if wanted != hedge {
            guard positions.values.allSatisfy({ $0.amount == 0 }), !algos.values.contains(where: { Self.working($0) }) else {
                throw SimRefusal(.invalidParameter, "Position side cannot be changed if there exists position or open orders.")
            }
            hedge = wanted
            positions = [:]
        }
        return .json(200, ["code": "200", "msg": "success"])
    }

    func setLeverage(_ params: QueryString) throws(SimRefusal) -> SimResponse {
        let (symbol, _) = try symbol(params)
        guard let value = params["leverage"].flatMap({ Int($0) }), (1...125).contains(value) else {
            throw SimRefusal(.invalidParameter, "Leverage is not valid.")
        }
        leverage[symbol] = value
        return .json(200, LeverageAnswer(leverage: value, maxNotionalValue: "1000000", symbol: symbol))
    }

    func premiumIndex(_ params: QueryString, now: Int64) throws(SimRefusal) -> SimResponse {
        struct Premium: Encodable {
            var symbol, markPrice, indexPrice, estimatedSettlePrice, lastFundingRate, interestRate: String
            var nextFundingTime, time: Int64
        }
        func row(_ symbol: String) -> Premium {
            let p = prices[symbol]!.text(places: 8)
            return Premium(
                symbol: symbol, markPrice: p, indexPrice: p, estimatedSettlePrice: p, lastFundingRate: "0.00010000",
                interestRate: "0.00010000", nextFundingTime: (now / 28_800_000 + 1) * 28_800_000, time: now)
        }
        if params["symbol"] != nil {
            let (symbol, _) = try symbol(params)
            return .json(200, row(symbol))
        }
        return .json(200, symbolOrder.map(row))
    }

    func leverageBrackets(_ params: QueryString) -> [LeverageBrackets] {
        symbolOrder.filter { params["symbol"] == nil || $0 == params["symbol"] }.map { LeverageBrackets(symbol: $0) }
    }

    func symbolConfig(_ params: QueryString) -> [SymbolConfigRow] {
        symbolOrder.filter { params["symbol"] == nil || $0 == params["symbol"] }.map {
            SymbolConfigRow(symbol: $0, marginType: "CROSSED", isAutoAddMargin: false, leverage: leverage[$0] ?? 20, maxNotionalValue: "1000000")
        }
    }

    func balance() -> AccountBalance { AccountBalance(updateTime: serverTime) }

    func account() -> AccountAnswer {
        AccountAnswer(
            assets: [AccountAsset(updateTime: serverTime)],
            positions: positionRows(symbol: nil).map {
                AccountPosition(
                    symbol: $0.symbol, positionSide: $0.side,
                    positionAmt: $0.position.amount.text(places: symbolRules[$0.symbol]!.stepSize.decimalPlaces),
                    entryPrice: $0.position.entry.text(places: 8), updateTime: $0.position.updated)
            })
    }

    func exchangeInfo(now: Int64) -> ExchangeInfo {
        let symbols = symbolOrder.map { symbol -> ExchangeSymbol in
            let rules = symbolRules[symbol]!
            let base = symbol.hasSuffix("USDT") ? String(symbol.dropLast(4)) : symbol
            let tick = rules.tickSize.text(places: rules.tickSize.decimalPlaces)
            let step = rules.stepSize.text(places: rules.stepSize.decimalPlaces)
            return ExchangeSymbol(
                symbol: symbol, baseAsset: base, quoteAsset: "USDT", pricePrecision: rules.tickSize.decimalPlaces + 1,
                quantityPrecision: rules.stepSize.decimalPlaces,
                filters: [
                    SymbolFilter(filterType: "PRICE_FILTER", tickSize: tick, minPrice: tick, maxPrice: "10000000"),
                    SymbolFilter(filterType: "LOT_SIZE", stepSize: step, minQty: step, maxQty: "1000"),
                    SymbolFilter(filterType: "MARKET_LOT_SIZE", stepSize: step, minQty: step, maxQty: "120"),
                    SymbolFilter(filterType: "MAX_NUM_ORDERS", limit: 200),
                    SymbolFilter(filterType: "MAX_NUM_ALGO_ORDERS", limit: Self.maxAlgoOrders),
                    SymbolFilter(filterType: "MIN_NOTIONAL", notional: rules.minNotional.description),
                    SymbolFilter(filterType: "PERCENT_PRICE", multiplierUp: "1.0500", multiplierDown: "0.9500", multiplierDecimal: "4"),
                ],
                orderTypes: ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"])
        }
        return ExchangeInfo(
            serverTime: now,
            rateLimits: [
                RateLimit(rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: 2400),
                RateLimit(rateLimitType: "ORDERS", interval: "MINUTE", intervalNum: 1, limit: 1200),
                RateLimit(rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, limit: 300),
            ],
            assets: [ExchangeAsset(asset: "USDT")], symbols: symbols)
    }
}
