import BinanceProtocol
import Foundation

extension SimulatedExchange {
    // MARK: - listenKeys

    /// POST: the active key (extended), or a new one.
    func openListenKey(now: Int64) -> String {
        if let key = listenKey, key.expiresMs > now {
            listenKey = (key.key, now + 3_600_000)
            return key.key
        }
        var bytes = [UInt8]()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        for _ in 0..<64 { bytes.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
        let key = String(decoding: bytes, as: UTF8.self)
        listenKey = (key, now + 3_600_000)
        return key
    }

    /// PUT: 60 more minutes, or -1125 for a dead key.
    func extendListenKey(_ params: QueryString, now: Int64) throws(SimRefusal) -> SimResponse {
        guard let key = listenKey, key.expiresMs > now, params["listenKey"].map({ $0 == key.key }) ?? true else {
            throw SimRefusal(.invalidListenKey)
        }
        listenKey = (key.key, now + 3_600_000)
        return .json(200, ListenKeyAnswer(listenKey: key.key))
    }

    /// DELETE: the key dies and its streams close.
    func closeListenKey() -> SimResponse {
        listenKey = nil
        dropUserStreams()
        return .json(200, [String: String]())
    }

    /// The key dies: `listenKeyExpired` on its streams, which then close.
    func expireListenKey() {
        guard let key = listenKey else { return }
        listenKey = nil
        send(ListenKeyExpired(E: serverTime, listenKey: key.key))
        dropUserStreams()
    }

    func dropUserStreams() {
        for (_, stream) in userStreams { stream.continuation.finish() }
        userStreams = [:]
    }

    // MARK: - subscribers

    /// A user data stream for `key`, or nil when the key is not live.
    public func subscribeUser(listenKey key: String) -> (id: Int, stream: AsyncStream<String>)? {
        guard let live = listenKey, live.key == key, live.expiresMs > serverTime else { return nil }
        nextStreamId += 1
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        userStreams[nextStreamId] = (key, continuation)
        return (nextStreamId, stream)
    }

    /// A market stream of the named streams (`btcusdt@markPrice@1s`, any case).
    public func subscribeMarket(streams: [String]) -> (id: Int, stream: AsyncStream<String>) {
        nextStreamId += 1
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        marketStreams[nextStreamId] = (Set(streams.map { $0.lowercased() }), continuation)
        return (nextStreamId, stream)
    }

    /// A market connection's SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS request; the answer to send back.
    public func marketRequest(id: Int, text: String) -> String {
        struct Request: Decodable {
            var method: String
            var params: [String]?
            var id: Int64?
        }
        guard let request = try? JSONDecoder().decode(Request.self, from: Data(text.utf8)), var entry = marketStreams[id] else {
            return #"{"code":2,"msg":"Invalid request: request ID must be an unsigned integer"}"#
        }
        let requestId = request.id.map(String.init) ?? "null"
        switch request.method {
        case "SUBSCRIBE":
            for name in request.params ?? [] { entry.streams.insert(name.lowercased()) }
            marketStreams[id] = entry
            for name in request.params ?? [] { if let symbol = name.split(separator: "@").first { pushMark(String(symbol).uppercased(), only: id) } }
            return #"{"result":null,"id":\#(requestId)}"#
        case "UNSUBSCRIBE":
            for name in request.params ?? [] { entry.streams.remove(name.lowercased()) }
            marketStreams[id] = entry
            return #"{"result":null,"id":\#(requestId)}"#
        case "LIST_SUBSCRIPTIONS":
            let names = entry.streams.sorted().map { "\"\($0)\"" }.joined(separator: ",")
            return #"{"result":[\#(names)],"id":\#(requestId)}"#
        default:
            return #"{"code":1,"msg":"Invalid method","id":\#(requestId)}"#
        }
    }

    /// A connection closed.
    public func unsubscribe(_ id: Int) {
        userStreams[id]?.continuation.finish()
        userStreams[id] = nil
        marketStreams[id]?.continuation.finish()
        marketStreams[id] = nil
    }

    // MARK: - events

    func send(_ event: some Encodable) {
        guard let bytes = try? JSONEncoder().encode(event) else { return }
        let text = String(decoding: bytes, as: UTF8.self)
        if userStreams.isEmpty {
            eventsLost += 1
            return
        }
        eventsSent += 1
        for (_, stream) in userStreams { stream.continuation.yield(text) }
    }

    func emitOrder(_ order: OrderAnswer, execution: String, last: Decimal, lastPrice: Decimal, realized: Decimal, now: Int64) {
        let rules = symbolRules[order.symbol]!
        send(
            OrderTradeUpdate(
                E: now,
                o: .init(
                    s: order.symbol, c: order.clientOrderId, S: order.side, o: order.type, q: order.origQty, ap: order.avgPrice, x: execution,
                    X: order.status, i: order.orderId, l: last.text(places: rules.stepSize.decimalPlaces),
                    z: order.executedQty, L: lastPrice.text(places: rules.tickSize.decimalPlaces), T: now, R: order.reduceOnly,
                    ps: order.positionSide, rp: realized.text(places: 8))))
    }

    func emitAlgo(_ algo: AlgoOrderAnswer, now: Int64) {
        send(
            AlgoUpdate(
                E: now,
                o: .init(
                    caid: algo.clientAlgoId, aid: algo.algoId, o: algo.orderType, s: algo.symbol, S: algo.side, ps: algo.positionSide,
                    q: algo.quantity, X: algo.algoStatus, ai: algo.actualOrderId ?? "", ap: algo.avgPrice ?? "0.00000",
                    aq: algo.executedQty ?? "0.00000", tp: algo.triggerPrice, wt: algo.workingType, R: algo.reduceOnly)))
    }

    /// ACCOUNT_UPDATE for a symbol: every position side of it, as Binance may send them.
    func emitAccount(_ symbol: String, now: Int64) {
        let rules = symbolRules[symbol]!
        let mark = prices[symbol] ?? 0
        let rows = positionRows(symbol: symbol).map {
            AccountUpdate.Position(
                s: symbol, pa: $0.position.amount.text(places: rules.stepSize.decimalPlaces), ep: $0.position.entry.text(places: 8),
                up: ((mark - $0.position.entry) * $0.position.amount).text(places: 8), ps: $0.side)
        }
        send(AccountUpdate(E: now, a: .init(m: "ORDER", B: [.init(a: "USDT", wb: "100000.00000000")], P: rows)))
    }

    /// The mark price of `symbol` to every market stream subscribed to it (or to one).
    func pushMark(_ symbol: String, only: Int? = nil) {
        guard let price = prices[symbol], let rules = symbolRules[symbol] else { return }
        let name = symbol.lowercased() + "@markprice@1s"
        let update = MarkPriceUpdate(E: serverTime, s: symbol, p: price.text(places: rules.tickSize.decimalPlaces + 1))
        guard let bytes = try? JSONEncoder().encode(StreamEnvelope(stream: symbol.lowercased() + "@markPrice@1s", data: update)) else { return }
        let text = String(decoding: bytes, as: UTF8.self)
        for (id, entry) in marketStreams where (only == nil || only == id) && entry.streams.contains(name) {
            entry.continuation.yield(text)
        }
    }
}
