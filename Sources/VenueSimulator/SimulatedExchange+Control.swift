import BinanceProtocol
import Foundation

/// The simulator's control endpoints, for tests and demos (not Binance's): set a price, open a
/// position as if by hand, inject faults, read the whole state.
extension SimulatedExchange {
    struct PriceControl: Decodable {
        var symbol: String
        var price: String
    }
    struct PositionControl: Decodable {
        var symbol: String
        /// LONG or SHORT.
        var side: String
        var quantity: String
        var entry_price: String?
    }
    struct FaultControl: Decodable {
        struct Failure: Decodable {
            var code: Int
            var status: Int?
            var path: String?
            var message: String?
        }
        var clock_offset_ms: Int64?
        var silent_placements: Int?
        var fail_next: [Failure]?
        var weight_limit: Int?
        var bans_after_429s: Int?
        var ban_seconds: Double?
        var ban_now: Bool?
        var drop_user_stream: Bool?
        var expire_listen_key: Bool?
        var stuck_stops: Bool?
        var clear: Bool?
    }

    func control(_ request: SimRequest) -> SimResponse {
        let body = Data(request.rawBody.utf8)
        let decoder = JSONDecoder()
        do {
            switch (request.method, request.path) {
            case ("POST", "/_sim/price"):
                let control = try decoder.decode(PriceControl.self, from: body)
                guard let price = Decimal(plainText: control.price) else { throw SimRefusal(.invalidParameter, "price: a decimal string") }
                try setPrice(control.symbol.uppercased(), price)
            case ("POST", "/_sim/position"):
                let control = try decoder.decode(PositionControl.self, from: body)
                try openByHand(control)
            case ("POST", "/_sim/faults"):
                applyFaults(try decoder.decode(FaultControl.self, from: body))
            case ("GET", "/_sim/state"):
                break
            default:
                return .json(404, ErrorBody(code: -1000, msg: "no such control: \(request.method) \(request.path)"))
            }
        } catch let refusal as SimRefusal {
            return refusal.response
        } catch {
            return .json(400, ErrorBody(code: -1130, msg: "bad control body: \(error)"))
        }
        return .json(200, state())
    }

    /// A position opened "in the venue's app": a MARKET fill under a web client id.
    func openByHand(_ control: PositionControl) throws(SimRefusal) {
        let symbol = control.symbol.uppercased()
        guard let rules = symbolRules[symbol] else { throw SimRefusal(.badSymbol) }
        guard control.side == "LONG" || control.side == "SHORT" else { throw SimRefusal(.invalidParameter, "side: LONG or SHORT") }
        guard let quantity = Decimal(plainText: control.quantity), quantity > 0 else {
            throw SimRefusal(.invalidParameter, "quantity: a positive decimal string")
        }
        if let entry = control.entry_price {
            guard let price = Decimal(plainText: entry), price > 0 else { throw SimRefusal(.invalidParameter, "entry_price: a decimal") }
            prices[symbol] = price.rounded(toMultipleOf: rules.tickSize, .plain)
        }
        let now = serverTime
        nextOrderId += 1
        let side = control.side == "LONG" ? "BUY" : "SELL"
        let order = OrderAnswer(
            orderId: nextOrderId, symbol: symbol, status: "NEW", clientOrderId: "web_" + String(nextOrderId), avgPrice: "0.00",
            origQty: control.quantity, executedQty: "0", cumQuote: "0", type: "MARKET", reduceOnly: false, side: side,
            positionSide: hedge ? control.side : "BOTH", time: now, updateTime: now)
        orders[order.orderId] = order
        fill(order, quantity: quantity.rounded(toMultipleOf: rules.stepSize, .down), price: prices[symbol]!, rules: rules, now: now)
    }

    func applyFaults(_ control: FaultControl) {
        if control.clear == true { faults = SimulatorFaults() }
        if let offset = control.clock_offset_ms { faults.clockOffsetMs = offset }
        if let silent = control.silent_placements { faults.silentPlacements = max(0, silent) }
        for failure in control.fail_next ?? [] {
            let status = failure.status ?? (failure.code == -1003 ? 429 : 400)
            faults.failures.append(.init(code: failure.code, status: status, path: failure.path, message: failure.message))
        }
        if let limit = control.weight_limit { faults.weightLimit = limit > 0 ? limit : nil }
        if let count = control.bans_after_429s { faults.bansAfter429s = max(0, count) }
        if let seconds = control.ban_seconds { faults.banSeconds = max(0.1, seconds) }
        if control.ban_now == true { faults.bannedUntilMs = serverTime + Int64(faults.banSeconds * 1000) }
        if control.drop_user_stream == true { dropUserStreams() }
        if control.expire_listen_key == true { expireListenKey() }
        if let stuck = control.stuck_stops { faults.stuckStops = stuck }
    }

    /// Everything, for `GET /_sim/state`.
    func state() -> SimState {
        SimState(
            hedge: hedge,
            prices: prices.mapValues { $0.description },
            positions: positionRows(symbol: nil).filter { $0.position.amount != 0 }.map {
                .init(symbol: $0.symbol, position_side: $0.side, amount: $0.position.amount.description, entry_price: $0.position.entry.description)
            },
            open_algo_orders: openAlgos(QueryString()),
            algo_orders: algos.values.sorted { $0.algoId < $1.algoId },
            orders: orders.values.sorted { $0.orderId < $1.orderId },
            acceptances: acceptances, submissions: submissions, requests: requestCounts, listen_key_live: listenKey != nil,
            user_streams: userStreams.count,
            market_streams: marketStreams.count, events_sent: eventsSent, events_lost: eventsLost, weight_used_1m: weightUsed,
            clock_offset_ms: faults.clockOffsetMs, banned: faults.bannedUntilMs.map { $0 > serverTime } ?? false)
    }
}

/// `GET /_sim/state`.
struct SimState: Encodable {
    struct Row: Encodable {
        var symbol: String
        var position_side: String
        var amount: String
        var entry_price: String
    }
    var hedge: Bool
    var prices: [String: String]
    var positions: [Row]
    var open_algo_orders: [AlgoOrderAnswer]
    var algo_orders: [AlgoOrderAnswer]
    var orders: [OrderAnswer]
    var acceptances: [String: Int]
    var submissions: [String: Int]
    var requests: [String: Int]
    var listen_key_live: Bool
    var user_streams: Int
    var market_streams: Int
    var events_sent: Int
    var events_lost: Int
    var weight_used_1m: Int
    var clock_offset_ms: Int64
    var banned: Bool
}
