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

    /// The Prometheus text exposition.
    public static func render() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
