import ExitBrainCoordination
import ExitBrainDomain
import ExitBrainService
import Foundation
import Logging
import Metrics
import RedisClient
import ServiceLifecycle

/// `exitbrain monitor`: reconcile passes every `MONITOR_INTERVAL_S`, peer heartbeats, alerts,
/// its own heartbeat and health.
public final class MonitoringService: Service, HealthSource {
    /// The service name.
    public static let name = "monitoring-service"
    /// The peer it watches.
    public static let peer = "execution-service"

    /// The configuration.
    public let config: MonitorConfiguration
    /// The reconciler.
    public let reconciler: Reconciler
    /// What changed since the last pass, from the bus.
    public let changes: ChangeFeed
    /// The alert sink.
    public let alerts: AlertSink
    /// The plan store, for `/plans`.
    public let planStore: PlanStore
    private let redis: RedisConnection
    private let subscription: EventSubscription
    private let heartbeat: HeartbeatPublisher
    private let peers: PeerWatcher
    private let probe: HealthProbe
    private let logger: Logger
    private let version: String
    private let started = ContinuousClock().now

    /// Wires the service over its own connections.
    public init(config: MonitorConfiguration, version: String, logger: Logger) {
        self.config = config
        self.version = version
        self.logger = logger
        let instance = String(UUID().uuidString.prefix(8)).lowercased()
        redis = RedisConnection(configuration: config.common.redis, name: "monitor-redis")
        let bus = EventBus(redis: redis, namespace: config.common.namespace, source: Self.name)
        planStore = PlanStore(redis: redis, namespace: config.common.namespace, bus: bus)
        let positions = PositionStore(redis: redis, namespace: config.common.namespace)
        subscription = EventSubscription(configuration: config.common.redis, namespace: config.common.namespace, types: [.heartbeat],
                                         pingChannel: config.common.namespace.ping(service: Self.name, instance: instance), bus: bus, logger: logger)
        heartbeat = HeartbeatPublisher(bus: bus, service: Self.name, instance: instance, version: version, interval: config.common.heartbeatInterval)
        peers = PeerWatcher(redis: redis, namespace: config.common.namespace, interval: config.common.heartbeatInterval)
        probe = HealthProbe(redis: redis, subscription: subscription)
        alerts = AlertSink(bus: bus, webhook: config.webhook, dedupe: config.alertDedupe, logger: logger)
        reconciler = Reconciler(plans: planStore, positions: positions, alerts: alerts, profile: config.profile, grace: config.interval,
                                enabled: config.exitBrainEnabled, logger: logger)
        changes = ChangeFeed(configuration: config.common.redis, namespace: config.common.namespace, reconciler: reconciler)
        // Every series from the start, at zero (dashboards show 0 instead of "no data").
        _ = Counter(label: "exitbrain_plans_created_total", dimensions: [("source", "RETROACTIVE")])
        _ = Counter(label: "exitbrain_retroactive_plans_total")
        _ = Counter(label: "exitbrain_stale_plans_closed_total")
        _ = Counter(label: "exitbrain_plans_closed_total", dimensions: [("reason", ClosedReason.positionClosed.rawValue)])
    }

    /// Runs until graceful shutdown or cancellation.
    public func run() async throws {
        logger.info("monitoring service starting", metadata: ["redis": "\(config.common.redis)", "namespace": "\(config.common.namespace)",
                                                             "interval_s": "\(config.interval.secondsValue)", "webhook": "\(config.webhook != nil)"])
        subscription.start()
        await changes.start()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.reconcileLoop() }
            group.addTask { await self.changes.run() }
            group.addTask { await self.heartbeatLoop() }
            if config.webhook != nil { group.addTask { await self.alerts.runDelivery() } }
            group.addTask { for await _ in self.subscription.events {} }
            group.addTask {
                try? await gracefulShutdown()
                self.logger.info("monitoring service stopping")
                self.subscription.close()
                self.changes.close()
            }
            await group.next()
            group.cancelAll()
        }
        await redis.close()
        logger.info("monitoring service stopped")
    }

    private func reconcileLoop() async {
        while !Task.isCancelled {
            do {
                await changes.checkIntact()
                let r = try await reconciler.pass()
                logger.debug("reconcile pass", metadata: ["positions": "\(r.positions)", "plans": "\(r.plans)", "created": "\(r.created)",
                                                          "closed": "\(r.closed)", "ms": "\(r.seconds * 1000)"])
            } catch {
                logger.warning("reconcile pass failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: config.interval)
        }
    }

    private func heartbeatLoop() async {
        var peerDown = false
        var seenPeer = false
        while !Task.isCancelled {
            do { try await heartbeat.beat(status: "OK") } catch { logger.debug("heartbeat not written", metadata: ["error": "\(error)"]) }
            let peer = await peers.status(of: Self.peer)
            if peer.status == .ok {
                if peerDown {
                    alerts.clear(code: "PEER_DOWN", key: Self.peer)
                    await alerts.raise(AlertEvent(severity: "info", code: "PEER_BACK", message: "\(Self.peer) heartbeats are back", key: Self.peer))
                }
                alerts.clear(code: "PEER_BACK", key: Self.peer)
                peerDown = false
                seenPeer = true
            } else if !peerDown && (seenPeer || ContinuousClock().now - started > config.common.heartbeatInterval * 3) {
                peerDown = true
                let age = peer.age.map { String(format: "%.1f s ago", $0) } ?? "never seen"
                await alerts.raise(AlertEvent(severity: "critical", code: "PEER_DOWN", message: "\(Self.peer) missed 3 heartbeats (last \(age))", key: Self.peer))
            }
            try? await Task.sleep(for: config.common.heartbeatInterval)
        }
    }

    /// The health answer, with the reconcile facts.
    public func healthReport() async -> HealthReport {
        // The checks run side by side: the answer takes as long as the slowest, not their sum.
        async let redisCheck = probe.redisHealth()
        async let busCheck = probe.eventBusHealth()
        async let peerCheck = peers.status(of: Self.peer)
        let (redisHealth, busHealth, peer) = await (redisCheck, busCheck, peerCheck)
        let last = await reconciler.last
        let totals = await reconciler.totals
        let lastAt = await reconciler.lastPassAt
        let clock = ContinuousClock()
        let age = lastAt.map { (clock.now - $0).secondsValue }
        let stalled = (age ?? (clock.now - started).secondsValue) > config.interval.secondsValue * 3 + 5
        var peerDetails: [(String, JSONValue)] = []
        if let a = peer.age { peerDetails.append(("heartbeat_age_s", .number((a * 10).rounded() / 10))) } else { peerDetails.append(("note", .string("no heartbeat seen"))) }
        let report = HealthReport(
            service: Self.name, version: version, timestamp: Date(), uptimeSeconds: (clock.now - started).secondsValue,
            dependencies: [("redis", redisHealth), ("eventbus", busHealth), (Self.peer, DependencyHealth(status: peer.status, details: peerDetails))],
            metrics: [
                ("last_pass_age_s", age.map { .number(($0 * 10).rounded() / 10) } ?? .null),
                ("last_pass_ms", last.map { .number(($0.seconds * 1e4).rounded() / 10) } ?? .null),
                ("positions_seen", .int(last?.positions ?? 0)),
                ("plans_seen", .int(last?.plans ?? 0)),
                ("plans_created_retroactively", .int(totals.created)),
                ("stale_plans_closed", .int(totals.closed)),
                ("plans_repaired", .int(totals.repaired)),
            ],
            loopStalled: stalled
        )
        Gauge(label: "exitbrain_health_status", dimensions: [("service", Self.name)]).record(report.status.gaugeValue)
        return report
    }
}
