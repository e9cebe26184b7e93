import ExitBrainCoordination
import Foundation
import Logging
import Metrics
import Synchronization

/// Sends alerts: published as `alert` on the bus, and queued for each configured sink (webhook,
/// Telegram), which delivers from its own bounded queue with retries and backoff, so a failing
/// sink never stalls reconciliation. A condition (code + key) is not sent again while it lasts,
/// within the dedupe window.
public final class AlertSink: Sendable {
    private struct State {
        var lastSent: [String: ContinuousClock.Instant] = [:]
        var sent: [AlertEvent] = []
    }

    private let bus: any EventPublishing
    private let settings: AlertSettings
    private let deliveries: [AlertDelivery]
    private let logger: Logger
    private let state = Mutex(State())

    /// A sink publishing on `bus` and delivering to `settings`' targets.
    public init(bus: any EventPublishing, settings: AlertSettings, logger: Logger) {
        self.bus = bus
        self.settings = settings
        self.logger = logger
        deliveries = settings.targets.map { AlertDelivery(target: $0, logger: logger) }
    }

    /// Alerts sent so far, the newest ``remembered`` (for health and tests).
    public var sent: [AlertEvent] { state.withLock { $0.sent } }
    /// Deliveries that succeeded, over every sink.
    public var delivered: Int { deliveries.reduce(0) { $0 + $1.delivered } }
    /// The sinks besides the bus, as printed (secrets masked).
    public var targets: [String] { deliveries.map { "\($0.target.name) \($0.target)" } }

    /// Sends an alert unless the same condition was sent within the dedupe window.
    /// Returns true when it was sent.
    @discardableResult
    public func raise(_ alert: AlertEvent) async -> Bool {
        await raise([alert]).first ?? false
    }

    /// Sends several alerts, each unless its condition was sent within the dedupe window; the
    /// ones sent are published in one round trip. Returns, for each, whether it was sent.
    @discardableResult
    public func raise(_ alerts: [AlertEvent]) async -> [Bool] {
        let clock = ContinuousClock()
        var writes = bus.writes()
        var sent: [Bool] = []
        for alert in alerts {
            let id = "\(alert.code)|\(alert.key ?? "")"
            let fresh = state.withLock { s -> Bool in
                if let last = s.lastSent[id], clock.now - last < settings.dedupe { return false }
                s.lastSent[id] = clock.now
                s.sent.append(alert)
                if s.sent.count > Self.remembered { s.sent.removeFirst(s.sent.count - Self.remembered) }
                return true
            }
            sent.append(fresh)
            guard fresh else { continue }
            let text = "[\(alert.severity.rawValue.uppercased())] \(alert.code)\(alert.key.map { " \($0)" } ?? ""): \(alert.message)"
            for delivery in deliveries { delivery.enqueue(text) }
            Counter(.alerts, dimensions: [("severity", alert.severity.rawValue), ("code", alert.code)]).increment()
            let level: Logger.Level = alert.severity == .critical ? .critical : alert.severity == .warning ? .warning : .info
            logger.log(
                level: level, "alert",
                metadata: [
                    "code": "\(alert.code)", "severity": "\(alert.severity.rawValue)", "key": "\(alert.key ?? "")", "message": "\(alert.message)",
                ])
            do { try writes.publish(.alert, alert, now: Date()) } catch { logger.debug("alert not encoded", metadata: ["error": "\(error)"]) }
        }
        if !writes.isEmpty {
            do { try await bus.commit(writes) } catch { logger.debug("alerts not published", metadata: ["error": "\(error)"]) }
        }
        return sent
    }

    /// How many sent alerts `sent` keeps (the newest).
    static let remembered = 1000

    /// Forgets a condition so that its next occurrence is sent again (it has cleared).
    public func clear(code: String, key: String?) {
        _ = state.withLock { $0.lastSent.removeValue(forKey: "\(code)|\(key ?? "")") }
    }

    /// Delivers every sink's queue until cancelled, each on its own, over one HTTP client
    /// (shut down when delivery ends). Returns at once when no sink is configured.
    public func runDelivery() async {
        guard !deliveries.isEmpty else { return }
        let client = AlertDelivery.makeClient(caFile: settings.caFile)
        await withTaskGroup(of: Void.self) { group in
            for delivery in deliveries { group.addTask { await delivery.run(client: client) } }
        }
        do { try await client.shutdown() } catch { logger.debug("alert client shutdown", metadata: ["error": "\(error)"]) }
    }
}
