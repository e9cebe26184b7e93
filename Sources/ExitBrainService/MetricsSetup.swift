import Foundation
import Metrics
import Prometheus

/// Process-wide metrics: swift-metrics bootstrapped once onto a Prometheus registry.
public enum MetricsSetup {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var shared: PrometheusCollectorRegistry?

    /// The registry (bootstrapping swift-metrics on first use).
    public static var registry: PrometheusCollectorRegistry {
        lock.lock()
        defer { lock.unlock() }
        if let r = shared { return r }
        let r = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: r)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
        ]
        MetricsSystem.bootstrap(factory)
        shared = r
        return r
    }

    /// The Prometheus text exposition, every family with its `# HELP` line (metrics made
    /// through swift-metrics carry none, and `promtool check metrics` wants one).
    public static func render() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        var out = ""
        out.reserveCapacity(text.utf8.count + 2048)
        var helped: Set<Substring> = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# HELP ") {
                helped.insert(line.dropFirst(7).prefix { $0 != " " })
            } else if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst(7).prefix { $0 != " " }
                if !helped.contains(name) {
                    out += "# HELP \(name) \(help[String(name)] ?? "ExitBrain metric \(name).")\n"
                }
            }
            out += line
            out += "\n"
        }
        if out.hasSuffix("\n\n") { out.removeLast() }
        return out
    }

    /// What each metric means, for its `# HELP` line.
    static let help: [String: String] = [
        "exitbrain_alerts_total": "Alerts sent, by severity and code.",
        "exitbrain_eventbus_roundtrip_seconds": "Round trip of a ping through the service's own event-bus subscription.",
        "exitbrain_events_rejected_total": "Inbound bus messages rejected, by reason.",
        "exitbrain_events_handled_total": "Inbound bus events handled, by type.",
        "exitbrain_fills_total": "Paper fills, by purpose (ENTRY, EXIT).",
        "exitbrain_health_status": "Health status: 2 OK, 1 DEGRADED, 0 DOWN.",
        "exitbrain_legs_triggered_total": "Exit legs triggered, by kind and shadow.",
        "exitbrain_loop_lag_seconds": "How late the housekeeping loop ran its last round.",
        "exitbrain_orders_total": "Paper orders placed, by purpose.",
        "exitbrain_plans_active": "Active exit plans this service holds.",
        "exitbrain_plans_closed_total": "Exit plans closed, by reason.",
        "exitbrain_plans_created_total": "Exit plans created, by source.",
        "exitbrain_reconcile_duration_seconds": "Duration of the last reconcile pass.",
        "exitbrain_reconcile_positions": "Positions seen by the last reconcile pass.",
        "exitbrain_redis_latency_seconds": "Redis PING round trip.",
        "exitbrain_retroactive_plans_total": "Exit plans the monitor created for positions that had none.",
        "exitbrain_signals_total": "Trade signals, by outcome.",
        "exitbrain_stale_plans_closed_total": "Plans closed by the monitor because their position was gone.",
    ]
}
