import AsyncHTTPClient
import BinanceProtocol
import ExitBrainCoordination
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import Venue

/// Binance's REST session: signs, keeps the server-time offset (refreshed and retried once on
/// `-1021`), tracks the request budget, and turns every failure into a ``VenueError``. The
/// secret never leaves the signer; the key only travels in its header.
actor BinanceREST {
    /// Who may call an endpoint.
    enum Security {
        case none, key, signed
    }

    private let settings: BinanceSettings
    private let client: HTTPClient
    private let signer: RequestSigner
    private let logger: Logger
    private let clock = ContinuousClock()
    /// Server time minus local time, ms.
    private(set) var offsetMs: Int64 = 0
    private(set) var budget = RequestBudget()
    private(set) var lastLatencyMs: Double?
    /// The last request reached the venue and had an answer (any answer).
    private(set) var reachable = false
    /// The venue refused the key or its signatures.
    private(set) var keyRefused = false
    private var timeSynced = false

    init(settings: BinanceSettings, client: HTTPClient, logger: Logger) {
        self.settings = settings
        self.client = client
        signer = RequestSigner(secret: settings.apiSecret)
        self.logger = logger
    }

    /// The local clock in Binance's milliseconds, corrected by the offset.
    func timestamp() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) + offsetMs }

    /// Reads `GET /fapi/v1/time` and sets the offset (half the round trip counted).
    func syncTime() async throws(VenueError) {
        let before = Date().timeIntervalSince1970 * 1000
        let body = try await call(.GET, "/fapi/v1/time", security: .none, timeSync: false)
        let after = Date().timeIntervalSince1970 * 1000
        guard let time = try? JSONDecoder().decode(ServerTime.self, from: Data(body)) else {
            throw .unreachable(message: "time: answer not readable")
        }
        offsetMs = time.serverTime - Int64(((before + after) / 2).rounded())
        timeSynced = true
    }

    /// One request; the answer's body on 2xx. `mutating`: the request may change something at
    /// the venue (a failure after sending is an unknown outcome, not a refusal). `priority`:
    /// a reduce-only exit or a cancel, which goes even when the budget is short.
    func call(
        _ method: HTTPMethod, _ path: String, _ params: QueryString = QueryString(), security: Security, mutating: Bool = false,
        priority: Bool = false, clientOrderId: String? = nil, timeSync: Bool = true
    ) async throws(VenueError) -> [UInt8] {
        if security == .signed, !timeSynced, timeSync { try await syncTime() }
        var retriedClock = false
        while true {
            do {
                return try await once(method, path, params, security: security, mutating: mutating, priority: priority, clientOrderId: clientOrderId)
            } catch .refused(let code, _) where code == BinanceCode.invalidTimestamp.rawValue && !retriedClock {
                // -1021: the request never executed. Read the server's clock, sign again, once.
                retriedClock = true
                logger.warning("venue clock check failed (-1021); re-reading server time and retrying once", metadata: ["path": "\(path)"])
                try await syncTime()
            }
        }
    }

    private func once(
        _ method: HTTPMethod, _ path: String, _ params: QueryString, security: Security, mutating: Bool, priority: Bool,
        clientOrderId: String?
    ) async throws(VenueError) -> [UInt8] {
        try budget.admit(priority: priority, now: clock.now)
        let text: String
        switch security {
        case .signed:
            text = params.signed(timestamp: timestamp(), recvWindow: settings.recvWindowMs, signer: signer)
        case .none, .key:
            text = params.description
        }
        let inBody = method == .POST || method == .PUT
        var request = HTTPClientRequest(url: settings.restURL + path + (inBody || text.isEmpty ? "" : "?" + text))
        request.method = method
        if security != .none { request.headers.add(name: "X-MBX-APIKEY", value: settings.apiKey) }
        if inBody {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: text))
        }
        let endpoint = "\(method.rawValue) \(path)"
        func count(_ code: String) { Counter(.venueRequests, dimensions: [("endpoint", endpoint), ("code", code)]).increment() }
        let started = clock.now
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .nanoseconds(Self.nanoseconds(settings.requestTimeout)))
            body = try await response.body.collect(upTo: 8 << 20)
        } catch {
            let sent = Self.mayHaveBeenSent(error)
            reachable = sent && reachable
            count(sent ? "no_answer" : "unreachable")
            if sent && mutating { throw .unknownOutcome(message: "\(endpoint): \(Self.describe(error))") }
            throw .unreachable(message: "\(endpoint): \(Self.describe(error))")
        }
        let elapsed = clock.now - started
        lastLatencyMs = elapsed.secondsValue * 1000
        Timer(.venueRequestLatency, dimensions: [("endpoint", endpoint)]).recordNanoseconds(Self.nanoseconds(elapsed))
        reachable = true
        let status = Int(response.status.code)
        let bytes = Array(body.readableBytesView)
        func header(_ name: String) -> Int? { response.headers.first(name: name).flatMap { Int($0) } }
        switch status {
        case 429:
            budget.tooManyRequests(retryAfter: header("Retry-After").map(Double.init), now: clock.now)
            count("429")
            logger.warning("venue rate limit (429): backing off", metadata: ["path": "\(path)", "retry_after_s": "\(header("Retry-After") ?? 0)"])
            throw .rateLimited(retryAfter: header("Retry-After").map(Double.init))
        case 418:
            let seconds = header("Retry-After").map(Double.init)
            budget.ban(seconds: seconds, now: clock.now)
            count("418")
            logger.critical("venue banned this IP (418): no request is sent until the ban ends", metadata: ["retry_after_s": "\(seconds ?? 0)"])
            throw .banned(untilMilliseconds: seconds.map { timestamp() + Int64($0 * 1000) })
        default:
            budget.answered(
                weight: header("X-MBX-USED-WEIGHT-1M"), orders10s: header("X-MBX-ORDER-COUNT-10S"), orders1m: header("X-MBX-ORDER-COUNT-1M"))
            Gauge(.venueWeightUsed).record(budget.weightUsed)
        }
        if (200..<300).contains(status) {
            keyRefused = false
            // A 200 body may still carry an error code (Binance does this on a few endpoints).
            if let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(bytes)), error.code < 0 {
                count(String(error.code))
                throw BinanceErrors.venueError(code: error.code, message: error.msg, clientOrderId: clientOrderId)
            }
            count(String(status))
            return bytes
        }
        guard let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(bytes)) else {
            count(String(status))
            // 503 "Unknown error" and other bodiless 5xx: the request may have executed.
            if status >= 500 && mutating { throw .unknownOutcome(message: "\(endpoint): HTTP \(status)") }
            throw .unreachable(message: "\(endpoint): HTTP \(status)")
        }
        count(String(error.code))
        if BinanceErrors.refusesKey(error.code) || status == 401 {
            keyRefused = true
            logger.error("venue refused the API key or its signature", metadata: ["code": "\(error.code)", "path": "\(path)"])
        }
        if status >= 500 && mutating { throw .unknownOutcome(message: "\(endpoint): (\(error.code)) \(error.msg)") }
        throw BinanceErrors.venueError(code: error.code, message: error.msg, clientOrderId: clientOrderId)
    }

    /// True unless the error proves nothing left (no connection was made).
    static func mayHaveBeenSent(_ error: any Error) -> Bool {
        if let client = error as? HTTPClientError,
            [HTTPClientError.connectTimeout, .invalidURL, .emptyHost, .emptyScheme, .alreadyShutdown].contains(client)
        {
            return false
        }
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED { return false }
        let text = String(describing: error)
        return !(text.contains("connectTimeout") || text.contains("Connection refused") || text.contains("connectionRefused"))
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    static func describe(_ error: any Error) -> String {
        if let client = error as? HTTPClientError { return client.description }
        return String(describing: error)
    }
}
