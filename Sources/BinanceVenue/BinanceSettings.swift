import Foundation

/// How the Binance USD-M adapter connects (docs/contract.md §2): bases, credentials, signing
/// window, trigger type, and the user stream's form.
public struct BinanceSettings: Sendable, CustomStringConvertible {
    /// REST base, e.g. `https://fapi.binance.com`.
    public var restURL: String
    /// Stream base, e.g. `wss://fstream.binance.com`.
    public var wsURL: String
    /// `BINANCE_API_KEY`: sent as `X-MBX-APIKEY`, never logged.
    public var apiKey: String
    /// `BINANCE_API_SECRET`: signs; never logged or sent.
    public var apiSecret: String
    /// `BINANCE_RECV_WINDOW_MS`.
    public var recvWindowMs: Int
    /// `EXIT_WORKING_TYPE`: `MARK_PRICE` or `CONTRACT_PRICE`.
    public var workingType: String
    /// `BINANCE_USER_STREAM_EVENTS`: the events named on the user stream's query form.
    public var userStreamEvents: [String]
    /// `BINANCE_USER_STREAM_FORM`: `query` (`/private/ws?listenKey=…&events=…`, production since
    /// 2026-04) or `path` (`/private/ws/<listenKey>`, the demo venue).
    public var userStreamPathForm: Bool
    /// `BINANCE_REQUEST_TIMEOUT_MS`: how long an answer is waited for before the outcome is unknown.
    public var requestTimeout: Duration
    /// How often the listenKey is extended (Binance: within 60 min; 30 min recommended).
    public var keepaliveInterval: Duration
    /// A user stream connection is renewed after this (Binance closes them at 24 h).
    public var connectionLifetime: Duration

    /// Production's and the demo venue's defaults.
    public static let production = (rest: "https://fapi.binance.com", ws: "wss://fstream.binance.com")
    public static let testnet = (rest: "https://demo-fapi.binance.com", ws: "wss://fstream.binancefuture.com")
    public static let defaultEvents = ["ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "ALGO_UPDATE", "TRADE_LITE", "listenKeyExpired"]

    /// Settings.
    public init(
        restURL: String, wsURL: String, apiKey: String, apiSecret: String, recvWindowMs: Int = 5000, workingType: String = "MARK_PRICE",
        userStreamEvents: [String] = Self.defaultEvents, userStreamPathForm: Bool = false, requestTimeout: Duration = .seconds(10),
        keepaliveInterval: Duration = .seconds(1800), connectionLifetime: Duration = .seconds(23 * 3600 + 1800)
    ) {
        self.restURL = restURL.hasSuffix("/") ? String(restURL.dropLast()) : restURL
        self.wsURL = wsURL.hasSuffix("/") ? String(wsURL.dropLast()) : wsURL
        self.apiKey = apiKey
        self.apiSecret = apiSecret
        self.recvWindowMs = recvWindowMs
        self.workingType = workingType
        self.userStreamEvents = userStreamEvents
        self.userStreamPathForm = userStreamPathForm
        self.requestTimeout = requestTimeout
        self.keepaliveInterval = keepaliveInterval
        self.connectionLifetime = connectionLifetime
    }

    /// The user stream's URL for a key.
    public func userStreamURL(listenKey: String) -> String {
        if userStreamPathForm { return wsURL + "/private/ws/" + listenKey }
        return wsURL + "/private/ws?listenKey=" + listenKey + "&events=" + userStreamEvents.joined(separator: "/")
    }

    /// No secret in it: the bases, the key's length, the window.
    public var description: String {
        "binance(rest: \(restURL), ws: \(wsURL), key: \(apiKey.isEmpty ? "unset" : "set"), recvWindow: \(recvWindowMs) ms, workingType: \(workingType))"
    }
}
