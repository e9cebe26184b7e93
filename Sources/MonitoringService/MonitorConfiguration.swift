import ExitBrainDomain
import ExitBrainService
import Foundation

/// The monitoring service's configuration (docs/contract.md §2), validated at start.
public struct MonitorConfiguration: ServiceConfiguration {
    /// Shared settings (Redis, HTTP, logging, profile, `EXIT_BRAIN_V3_ENABLED`, fee).
    public var common: CommonConfiguration
    /// `MONITOR_INTERVAL_S`: the reconcile period.
    public var interval: Duration
    /// Alert sinks besides the bus (`ALERT_*`).
    public var alerts: AlertSettings

    /// The HTTP port when `HTTP_PORT` is unset.
    public static let defaultPort = 8003

    /// Reads and validates the service's own settings.
    public init(common: CommonConfiguration, environment env: EnvironmentReader) throws(ConfigurationError) {
        let s = try env.double("MONITOR_INTERVAL_S", default: 5, range: 0.05...3600)
        interval = .milliseconds(Int(s * 1000))
        alerts = try AlertSettings(environment: env)
        self.common = common
    }
}
