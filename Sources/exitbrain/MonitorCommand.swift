import ArgumentParser
import ExitBrainService
import Foundation
import Logging
import MonitoringService

/// `exitbrain monitor`.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Run the monitoring service: every open position has a plan, peers are alive, alerts."
    )

    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("monitor-interval-s"), help: "MONITOR_INTERVAL_S: reconcile period in seconds (default 5).")
    var interval: String?
    @Option(name: .customLong("alert-webhook-url"), help: "ALERT_WEBHOOK_URL: http:// URL that receives alerts as {\"text\": …} (default unset).")
    var webhook: String?
    @Option(name: .customLong("exit-brain-profile"), help: "EXIT_BRAIN_PROFILE: DEFAULT or CHALLENGE_100, for retroactive plans (default DEFAULT).")
    var profile: String?
    @Option(name: .customLong("exit-brain-v3-enabled"), help: "EXIT_BRAIN_V3_ENABLED: false creates no retroactive plans (default true).")
    var enabled: String?

    func run() async throws {
        let env = environment(common.overrides, ["MONITOR_INTERVAL_S": interval, "ALERT_WEBHOOK_URL": webhook, "EXIT_BRAIN_PROFILE": profile,
                                                 "EXIT_BRAIN_V3_ENABLED": enabled])
        let config: MonitorConfiguration
        do { config = try MonitorConfiguration(environment: env) } catch { exitWithConfigurationError(error) }
        LoggingSetup.bootstrap(format: config.common.logFormat, level: config.common.logLevel)
        _ = MetricsSetup.registry
        let logger = Logger(label: "exitbrain.monitor")
        let service = MonitoringService(config: config, version: ExitBrainVersion.current, logger: logger)
        let http = HTTPEndpoints.application(source: service, host: config.common.httpHost, port: config.common.httpPort,
                                             logger: Logger(label: "exitbrain.monitor.http"))
        try await runGroup([service, http], logger: logger)
    }
}
