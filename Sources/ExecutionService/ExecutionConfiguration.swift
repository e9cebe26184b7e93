import ExitBrainDomain
import ExitBrainService
import PaperVenue

/// `EXCHANGE`.
public enum ExchangeKind: String, Sendable, CaseIterable {
    /// Simulated fills; the book is the positions hash.
    case paper
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
        self.common = common
    }

    /// Live or shadow for one symbol (``LiveRules``).
    public func mode(for symbol: String) -> ExecutionMode { common.live.mode(for: symbol) }

    /// The word reported in health.
    public var modeWord: String { common.live.modeWord }
}
