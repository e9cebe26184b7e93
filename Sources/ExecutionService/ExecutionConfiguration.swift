import BinanceVenue
import ExitBrainDomain
import ExitBrainService
import Foundation
import PaperVenue

/// `EXCHANGE`.
public enum ExchangeKind: String, Sendable, CaseIterable {
    /// Simulated fills; the book is the positions hash.
    case paper
    /// Binance USD-M futures (or `exitbrain venue-sim`): the venue is the truth, mirrored into the positions hash.
    case binance
}

/// The execution service's configuration (docs/contract.md §2), validated at start.
public struct ExecutionConfiguration: ServiceConfiguration {
    /// Shared settings (Redis, HTTP, logging, profile, `EXIT_BRAIN_V3_ENABLED`, fee).
    public var common: CommonConfiguration
    /// `EXIT_MODE`.
    public var exitMode: ExitMode { common.live.exitMode }
    /// `EXIT_EXECUTOR_MODE`.
    public var executorMode: ExecutorMode { common.live.executorMode }
    /// `EXCHANGE`.
    public var exchange: ExchangeKind
    /// `PAPER_SLIPPAGE_BPS` (default 0).
    public var slippageBps: Double
    /// `PAPER_FAULTS` (default none): what the paper venue does wrong on purpose (tests, drills).
    public var paperFaults: PaperFaults
    /// `EXIT_ORDERS`.
    public var exitOrders: ExitOrdersMode { common.exitOrders }
    /// `ORDER_RECORD_RETENTION_H` (default 24), in seconds: how long a final order record stays
    /// in `{ns}:orders` (removed at the next reconciliation after that).
    public var orderRetention: Double

    /// The Binance settings when `EXCHANGE=binance`.
    public var binance: BinanceSettings?

    /// The venue holds the book and its own prices (Binance): its positions are mirrored into
    /// `{ns}:positions` and its mark prices, not bus ticks, drive decisions. The paper venue's
    /// book is `{ns}:positions` itself, and it trades on the bus's ticks.
    public var venueOwnsBook: Bool { exchange != .paper }

    /// The HTTP port when `HTTP_PORT` is unset.
    public static let defaultPort = 8002

    /// Reads and validates the service's own settings.
    public init(common: CommonConfiguration, environment env: EnvironmentReader) throws(ConfigurationError) {
        exchange = try env.word("EXCHANGE", default: ExchangeKind.paper)
        slippageBps = try env.double("PAPER_SLIPPAGE_BPS", default: 0, range: 0...500)
        orderRetention = try env.double("ORDER_RECORD_RETENTION_H", default: 24, range: 0.01...8760) * 3600
        let faults = env.string("PAPER_FAULTS", default: "")
        do { paperFaults = try PaperFaults(parsing: faults) } catch {
            throw ConfigurationError(
                variable: "PAPER_FAULTS", value: faults,
                allowed: "\(error)")
        }
        binance = exchange == .binance ? try Self.binanceSettings(env) : nil
        self.common = common
    }

    /// `BINANCE_*` and `EXIT_WORKING_TYPE`; key and secret are required (directly or as `_FILE`).
    static func binanceSettings(_ env: EnvironmentReader) throws(ConfigurationError) -> BinanceSettings {
        let testnet = try env.bool("BINANCE_TESTNET", default: false)
        let defaults = testnet ? BinanceSettings.testnet : BinanceSettings.production
        let rest = env.string("BINANCE_REST_URL", default: defaults.rest)
        let ws = env.string("BINANCE_WS_URL", default: defaults.ws)
        guard let restURL = URL(string: rest), ["http", "https"].contains(restURL.scheme ?? ""), restURL.host != nil else {
            throw ConfigurationError(variable: "BINANCE_REST_URL", value: rest, allowed: "an http:// or https:// base URL")
        }
        guard let wsURL = URL(string: ws), ["ws", "wss"].contains(wsURL.scheme ?? ""), wsURL.host != nil else {
            throw ConfigurationError(variable: "BINANCE_WS_URL", value: ws, allowed: "a ws:// or wss:// base URL")
        }
        let key = try secret(env, "BINANCE_API_KEY")
        let secret = try secret(env, "BINANCE_API_SECRET")
        let window = try env.int("BINANCE_RECV_WINDOW_MS", default: 5000, range: 1...60_000)
        let working = env.string("EXIT_WORKING_TYPE", default: "MARK_PRICE")
        guard working == "MARK_PRICE" || working == "CONTRACT_PRICE" else {
            throw ConfigurationError(variable: "EXIT_WORKING_TYPE", value: working, allowed: "MARK_PRICE, CONTRACT_PRICE")
        }
        let form = env.string("BINANCE_USER_STREAM_FORM", default: "query")
        guard form == "query" || form == "path" else {
            throw ConfigurationError(variable: "BINANCE_USER_STREAM_FORM", value: form, allowed: "query, path")
        }
        let events = env.string("BINANCE_USER_STREAM_EVENTS", default: BinanceSettings.defaultEvents.joined(separator: "/"))
            .split(separator: "/").map(String.init)
        let timeout = try env.int("BINANCE_REQUEST_TIMEOUT_MS", default: 10_000, range: 100...120_000)
        return BinanceSettings(
            restURL: rest, wsURL: ws, apiKey: key, apiSecret: secret, recvWindowMs: window, workingType: working, userStreamEvents: events,
            userStreamPathForm: form == "path", requestTimeout: .milliseconds(timeout))
    }

    /// A secret from `NAME` or the file `NAME_FILE` names (one trailing newline dropped); its
    /// value is never repeated in an error.
    static func secret(_ env: EnvironmentReader, _ name: String) throws(ConfigurationError) -> String {
        if let direct = env.optional(name), !direct.isEmpty { return direct }
        if let path = env.optional(name + "_FILE") {
            guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(variable: name + "_FILE", value: path, allowed: "a readable file holding the value")
            }
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            guard !text.isEmpty else { throw ConfigurationError(variable: name + "_FILE", value: path, allowed: "a file holding a non-empty value") }
            return text
        }
        throw ConfigurationError(variable: name, value: "", allowed: "set (or \(name)_FILE) when EXCHANGE=binance")
    }

    /// Live or shadow for one symbol (``LiveRules``).
    public func mode(for symbol: String) -> ExecutionMode { common.live.mode(for: symbol) }

    /// The word reported in health.
    public var modeWord: String { common.live.modeWord }
}
