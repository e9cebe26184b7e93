import ExitBrainCoordination
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
    static let help: [String: String] = Dictionary(uniqueKeysWithValues: MetricName.allCases.map { ($0.rawValue, $0.help) })
}
