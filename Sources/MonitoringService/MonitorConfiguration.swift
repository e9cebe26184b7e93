import ExitBrainDomain
import ExitBrainService
import Foundation

/// The monitoring service's configuration (CONTRACT §2), validated at start.
public struct MonitorConfiguration: ServiceConfiguration {
    /// Shared settings (Redis, HTTP, logging, profile, `EXIT_BRAIN_V3_ENABLED`, fee).
    public var common: CommonConfiguration
    /// `MONITOR_INTERVAL_S`: the reconcile period.
    public var interval: Duration
    /// `ALERT_WEBHOOK_URL`: where alerts are POSTed (http:// only; see README).
    public var webhook: URL?
    /// How long an alert condition stays quiet after it was sent (`ALERT_DEDUPE_S`, default 300).
    public var alertDedupe: Duration

    /// Reads and validates the environment.
    public init(environment: [String: String]) throws(ConfigurationError) {
        let env = EnvironmentReader(environment)
        common = try CommonConfiguration(environment: env, defaultPort: 8003)
        let s = try env.double("MONITOR_INTERVAL_S", default: 5, range: 0.05...3600)
        interval = .milliseconds(Int(s * 1000))
        if let raw = env.optional("ALERT_WEBHOOK_URL") {
            guard let url = URL(string: raw), url.scheme == "http", url.host != nil else {
                throw ConfigurationError(variable: "ALERT_WEBHOOK_URL", value: raw, allowed: "an http://host[:port]/path URL")
            }
            webhook = url
        } else {
            webhook = nil
        }
        let d = try env.double("ALERT_DEDUPE_S", default: 300, range: 0...86400)
        alertDedupe = .milliseconds(Int(d * 1000))
    }
}
