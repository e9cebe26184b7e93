import BinanceProtocol
import Foundation

/// How an endpoint is guarded: public, API key only (listenKeys), or signed.
enum Security {
    case none, key, signed
}

/// One REST endpoint of the simulator: Binance's method, path, weight and security.
struct Endpoint {
    var method: String
    var path: String
    var weight: Int
    var security: Security
    var placesOrders = false
}

extension SimulatedExchange {
    static let endpoints: [Endpoint] = [
        Endpoint(method: "GET", path: "/fapi/v1/ping", weight: 1, security: .none),
        Endpoint(method: "GET", path: "/fapi/v1/time", weight: 1, security: .none),
        Endpoint(method: "GET", path: "/fapi/v1/exchangeInfo", weight: 1, security: .none),
        Endpoint(method: "GET", path: "/fapi/v1/premiumIndex", weight: 1, security: .none),
        Endpoint(method: "GET", path: "/fapi/v1/positionSide/dual", weight: 30, security: .signed),
        Endpoint(method: "POST", path: "/fapi/v1/positionSide/dual", weight: 1, security: .signed),
        Endpoint(method: "POST", path: "/fapi/v1/order", weight: 0, security: .signed, placesOrders: true),
        Endpoint(method: "GET", path: "/fapi/v1/order", weight: 1, security: .signed),
        Endpoint(method: "DELETE", path: "/fapi/v1/order", weight: 1, security: .signed),
        Endpoint(method: "GET", path: "/fapi/v1/openOrders", weight: 1, security: .signed),
        Endpoint(method: "DELETE", path: "/fapi/v1/allOpenOrders", weight: 1, security: .signed),
        Endpoint(method: "POST", path: "/fapi/v1/algoOrder", weight: 0, security: .signed, placesOrders: true),
        Endpoint(method: "GET", path: "/fapi/v1/algoOrder", weight: 1, security: .signed),
        Endpoint(method: "DELETE", path: "/fapi/v1/algoOrder", weight: 1, security: .signed),
        Endpoint(method: "GET", path: "/fapi/v1/openAlgoOrders", weight: 1, security: .signed),
        Endpoint(method: "DELETE", path: "/fapi/v1/algoOpenOrders", weight: 1, security: .signed),
        Endpoint(method: "GET", path: "/fapi/v2/positionRisk", weight: 5, security: .signed),
        Endpoint(method: "GET", path: "/fapi/v3/positionRisk", weight: 5, security: .signed),
        Endpoint(method: "POST", path: "/fapi/v1/leverage", weight: 1, security: .signed),
        Endpoint(method: "GET", path: "/fapi/v1/leverageBracket", weight: 1, security: .signed),
        Endpoint(method: "GET", path: "/fapi/v1/symbolConfig", weight: 5, security: .signed),
        Endpoint(method: "GET", path: "/fapi/v2/account", weight: 5, security: .signed),
        Endpoint(method: "GET", path: "/fapi/v3/account", weight: 5, security: .signed),
        Endpoint(method: "GET", path: "/fapi/v2/balance", weight: 5, security: .signed),
        Endpoint(method: "GET", path: "/fapi/v3/balance", weight: 5, security: .signed),
        Endpoint(method: "POST", path: "/fapi/v1/listenKey", weight: 1, security: .key),
        Endpoint(method: "PUT", path: "/fapi/v1/listenKey", weight: 1, security: .key),
        Endpoint(method: "DELETE", path: "/fapi/v1/listenKey", weight: 1, security: .key),
    ]

    /// Serves one REST request the way Binance does: ban, weight, key, time, signature, then
    /// the endpoint; every answer carries the weight headers.
    public func handle(_ request: SimRequest) async -> SimResponse {
        if request.path.hasPrefix("/_sim/") { return control(request) }
        guard let endpoint = Self.endpoints.first(where: { $0.method == request.method && $0.path == request.path }) else {
            return SimResponse.json(404, ErrorBody(code: -1000, msg: "Path \(request.method) \(request.path) is not served."))
        }
        requestCounts["\(request.method) \(request.path)", default: 0] += 1
        let now = serverTime
        var response = guarded(request, endpoint: endpoint, now: now)
        response.headers.append(("X-MBX-USED-WEIGHT-1M", String(weightUsed)))
        if endpoint.placesOrders {
            response.headers.append(("X-MBX-ORDER-COUNT-10S", String(orderCount10s.count)))
            response.headers.append(("X-MBX-ORDER-COUNT-1M", String(orderCount1m.count)))
        }
        response.headers.append(("Content-Type", "application/json"))
        return response
    }

    private func guarded(_ request: SimRequest, endpoint: Endpoint, now: Int64) -> SimResponse {
        if let until = faults.bannedUntilMs {
            if until > now {
                return SimResponse.json(
                    418,
                    ErrorBody(
                        code: BinanceCode.tooManyRequests.rawValue,
                        msg: "Way too many requests; IP(127.0.0.1) banned until \(until). Please use the websocket for live updates to avoid bans."),
                    headers: [("Retry-After", String(max(1, (until - now + 999) / 1000)))])
            }
            faults.bannedUntilMs = nil
        }
        if now / 60_000 != weightMinute {
            weightMinute = now / 60_000
            weightUsed = 0
            tooManyInMinute = 0
        }
        weightUsed += endpoint.weight
        if let limit = faults.weightLimit, weightUsed > limit {
            tooManyInMinute += 1
            if tooManyInMinute > faults.bansAfter429s {
                let until = now + Int64(faults.banSeconds * 1000)
                faults.bannedUntilMs = until
                return SimResponse.json(
                    418,
                    ErrorBody(
                        code: BinanceCode.tooManyRequests.rawValue,
                        msg: "Way too many requests; IP(127.0.0.1) banned until \(until). Please use the websocket for live updates to avoid bans."),
                    headers: [("Retry-After", String(Int(faults.banSeconds.rounded(.up))))])
            }
            return SimResponse.json(
                429, ErrorBody(code: BinanceCode.tooManyRequests.rawValue, msg: BinanceCode.tooManyRequests.message),
                headers: [("Retry-After", String(max(1, 60 - (now / 1000) % 60)))])
        }
        if endpoint.placesOrders {
            if orderCount10s.window != now / 10_000 { orderCount10s = (now / 10_000, 0) }
            if orderCount1m.window != now / 60_000 { orderCount1m = (now / 60_000, 0) }
            orderCount10s.count += 1
            orderCount1m.count += 1
        }
        let params: QueryString
        switch endpoint.security {
        case .none:
            params = QueryString(parsing: request.rawQuery)
        case .key, .signed:
            guard let key = request.apiKey, !key.isEmpty else {
                return .error(.rejectedMBXKey, status: 401, message: "API-key format invalid.")
            }
            guard key == settings.apiKey else { return .error(.rejectedMBXKey, status: 401) }
            if endpoint.security == .signed {
                let query = QueryString.splitSignature(request.rawQuery)
                let body = QueryString.splitSignature(request.rawBody)
                let all = QueryString(parsing: query.payload + (query.payload.isEmpty || body.payload.isEmpty ? "" : "&") + body.payload)
                guard let stamp = all["timestamp"].flatMap({ Int64($0) }) else {
                    return .error(.mandatoryParamMissing, message: "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
                }
                let window = all["recvWindow"].flatMap { Int64($0) } ?? 5000
                guard window > 0, window <= 60_000 else { return .error(.invalidParameter, message: "recvWindow must be 1..60000.") }
                if stamp >= now + 1000 || now - stamp > window { return .error(.invalidTimestamp) }
                guard let signature = query.signature ?? body.signature,
                    signer.verifies(signature, of: query.payload + body.payload)
                else { return .error(.invalidSignature) }
                params = all
            } else {
                params = QueryString(parsing: request.rawQuery + (request.rawBody.isEmpty ? "" : "&" + request.rawBody))
            }
        }
        if let index = faults.failures.firstIndex(where: { failure in
            failure.path.map { $0 == request.path } ?? endpoint.placesOrders
        }) {
            let failure = faults.failures.remove(at: index)
            return SimResponse.json(
                failure.status,
                ErrorBody(code: failure.code, msg: failure.message ?? BinanceCode(rawValue: failure.code)?.message ?? "Simulated failure."))
        }
        do {
            var response = try serve(endpoint, params: params, now: now)
            if endpoint.placesOrders, faults.silentPlacements > 0, response.status == 200 {
                faults.silentPlacements -= 1
                response.withheld = settings.silentHold
            }
            return response
        } catch {
            return error.response
        }
    }

    private func serve(_ endpoint: Endpoint, params: QueryString, now: Int64) throws(SimRefusal) -> SimResponse {
        switch (endpoint.method, endpoint.path) {
        case ("GET", "/fapi/v1/ping"): return .json(200, [String: String]())
        case ("GET", "/fapi/v1/time"): return .json(200, ServerTime(serverTime: now))
        case ("GET", "/fapi/v1/exchangeInfo"): return .json(200, exchangeInfo(now: now))
        case ("GET", "/fapi/v1/premiumIndex"): return try premiumIndex(params, now: now)
        case ("GET", "/fapi/v1/positionSide/dual"): return .json(200, PositionModeAnswer(dualSidePosition: hedge))
        case ("POST", "/fapi/v1/positionSide/dual"): return try changePositionMode(params)
        case ("POST", "/fapi/v1/order"): return try placeOrder(params, now: now)
        case ("GET", "/fapi/v1/order"): return .json(200, try findOrder(params, unknown: .noSuchOrder))
        case ("DELETE", "/fapi/v1/order"): return try cancelOrder(params)
        case ("GET", "/fapi/v1/openOrders"): return .json(200, openOrders(params))
        case ("DELETE", "/fapi/v1/allOpenOrders"): return .json(200, ["code": "200", "msg": "The operation of cancel all open order is done."])
        case ("POST", "/fapi/v1/algoOrder"): return try placeAlgo(params, now: now)
        case ("GET", "/fapi/v1/algoOrder"): return .json(200, try findAlgo(params, unknown: .noSuchOrder))
        case ("DELETE", "/fapi/v1/algoOrder"): return try cancelAlgo(params, now: now)
        case ("GET", "/fapi/v1/openAlgoOrders"): return .json(200, openAlgos(params))
        case ("DELETE", "/fapi/v1/algoOpenOrders"): return try cancelAllAlgos(params, now: now)
        case ("GET", "/fapi/v2/positionRisk"): return .json(200, positionRisk(params, withLeverage: true))
        case ("GET", "/fapi/v3/positionRisk"): return .json(200, positionRisk(params, withLeverage: false))
        case ("POST", "/fapi/v1/leverage"): return try setLeverage(params)
        case ("GET", "/fapi/v1/leverageBracket"): return .json(200, leverageBrackets(params))
        case ("GET", "/fapi/v1/symbolConfig"): return .json(200, symbolConfig(params))
        case ("GET", "/fapi/v2/account"), ("GET", "/fapi/v3/account"): return .json(200, account())
        case ("GET", "/fapi/v2/balance"), ("GET", "/fapi/v3/balance"): return .json(200, [balance()])
        case ("POST", "/fapi/v1/listenKey"): return .json(200, ListenKeyAnswer(listenKey: openListenKey(now: now)))
        case ("PUT", "/fapi/v1/listenKey"): return try extendListenKey(params, now: now)
        case ("DELETE", "/fapi/v1/listenKey"): return closeListenKey()
        default: return .error(.unknown, status: 404)
        }
    }
}
