import ArgumentParser
import ExitBrainService
import MonitoringService

/// `exitbrain monitor`.
struct MonitorCommand: ServiceCommand {
    typealias Service = MonitoringService
    static let commandName = "monitor"
    static let abstract = "Run the monitoring service: every open position has a plan, peers are alive, alerts."
    var overrides: [String: String?] { ["MONITOR_INTERVAL_S": interval, "ALERT_WEBHOOK_URL": webhook] }

    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("monitor-interval-s"), help: "MONITOR_INTERVAL_S: reconcile period in seconds (default 5).")
    var interval: String?
    @Option(
        name: .customLong("alert-webhook-url"),
        help: "ALERT_WEBHOOK_URL: http:// or https:// URL that receives alerts as {\"text\": …} (default unset).")
    var webhook: String?
}
