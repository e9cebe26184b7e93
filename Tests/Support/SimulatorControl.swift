import AsyncHTTPClient
import BinanceProtocol
import Foundation
import NIOCore
import NIOHTTP1

/// A venue simulator's control and Binance endpoints from a test: `/_sim/…` and signed requests.
public struct SimulatorControl: Sendable {
    public let port: Int
    public let apiKey: String
    public let apiSecret: String

    public init(port: Int, apiKey: String = "test-key", apiSecret: String = "test-secret-0123456789") {
        self.port = port
        self.apiKey = apiKey
        self.apiSecret = apiSecret
    }

    /// `http://127.0.0.1:PORT`.
    public var restURL: String { "http://127.0.0.1:\(port)" }
    /// `ws://127.0.0.1:PORT`.
    public var wsURL: String { "ws://127.0.0.1:\(port)" }

    /// The simulator's whole state, as `GET /_sim/state` gives it.
    public struct State: Decodable, Sendable {
        public struct Row: Decodable, Sendable {
            public var symbol: String
            public var position_side: String
            public var amount: String
            public var entry_price: String
        }
        public var hedge: Bool
        public var prices: [String: String]
        public var positions: [Row]
        public var open_algo_orders: [AlgoOrderAnswer]
        public var algo_orders: [AlgoOrderAnswer]
        public var orders: [OrderAnswer]
        public var acceptances: [String: Int]
        public var submissions: [String: Int]
        public var requests: [String: Int]
        public var listen_key_live: Bool
        public var user_streams: Int
        public var market_streams: Int
        public var events_sent: Int
        public var events_lost: Int
        public var weight_used_1m: Int
        public var banned: Bool

        /// The open position of a symbol and side (LONG/SHORT/BOTH) as a decimal amount.
        public func amount(_ symbol: String, _ side: String) -> Decimal {
            positions.first { $0.symbol == symbol && $0.position_side == side }.flatMap { Decimal(string: $0.amount) } ?? 0
        }
        /// Requests served on `METHOD path`.
        public func count(_ endpoint: String) -> Int { requests[endpoint] ?? 0 }
    }

    /// POSTs JSON to a control path; throws unless 200.
    @discardableResult
    public func control(_ path: String, _ json: String) async throws -> String {
        var request = HTTPClientRequest(url: restURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = String(buffer: try await response.body.collect(upTo: 16 << 20))
        guard response.status == .ok else { throw TestProcess.Failure("\(path) → \(response.status.code): \(body)") }
        return body
    }

    /// Sets a mark price.
    public func price(_ symbol: String, _ price: String) async throws {
        try await control("/_sim/price", #"{"symbol":"\#(symbol)","price":"\#(price)"}"#)
    }

    /// Injects faults (`POST /_sim/faults`).
    public func faults(_ json: String) async throws { try await control("/_sim/faults", json) }

    /// Opens a position as if by hand in the venue's app.
    public func openByHand(_ symbol: String, _ side: String, quantity: String) async throws {
        try await control("/_sim/position", #"{"symbol":"\#(symbol)","side":"\#(side)","quantity":"\#(quantity)"}"#)
    }

    /// `GET /_sim/state`.
    public func state() async throws -> State {
        let (status, body) = try await LoopbackHTTP.get(port: port, "/_sim/state")
        guard status == 200 else { throw TestProcess.Failure("/_sim/state → \(status)") }
        return try JSONDecoder().decode(State.self, from: Data(body.utf8))
    }

    /// A Binance request as any client would send it (signed unless `signed` is false), with
    /// the parameters in the query string (GET/DELETE) or the form body (POST/PUT).
    public func send(
        _ method: HTTPMethod, _ path: String, _ params: [(String, String)] = [], signed: Bool = true, timestampOffsetMs: Int64 = 0,
        badSignature: Bool = false, key: String? = nil
    ) async throws -> (status: Int, body: String) {
        var query = QueryString(params)
        if signed {
            query.append("timestamp", String(Int64(Date().timeIntervalSince1970 * 1000) + timestampOffsetMs))
            let signature = RequestSigner(secret: badSignature ? apiSecret + "x" : apiSecret).signature(of: query.description)
            query.append("signature", signature)
        }
        let inBody = method == .POST || method == .PUT
        var request = HTTPClientRequest(url: restURL + path + (inBody ? "" : "?" + query.description))
        request.method = method
        request.headers.add(name: "X-MBX-APIKEY", value: key ?? apiKey)
        if inBody {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: query.description))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 16 << 20)))
    }
}
