import ArgumentParser
import ExitBrainService
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
        try await ServiceRunner.run(MonitoringService.self, environment: env)
    }
}
