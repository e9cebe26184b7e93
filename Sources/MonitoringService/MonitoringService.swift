import ExitBrainCoordination
import ExitBrainDomain
import ExitBrainService
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// `exitbrain monitor`: reconcile passes every `MONITOR_INTERVAL_S`, peer heartbeats, alerts,
/// its own heartbeat and health.
public final class MonitoringService: RunnableService {
    /// Who it is: `monitoring-service`, watching `execution-service`.
    public static let identity = ServiceRuntime.Identity(
        name: "monitoring-service", peer: "execution-service", logLabel: "exitbrain.monitor", connectionName: "monitor-redis")

    /// The configuration.
    public let config: MonitorConfiguration
    /// The reconciler.
    public let reconciler: Reconciler
    /// What changed since the last pass, from the bus.
    public let changes: ChangeFeed
    /// The alert sink.
    public let alerts: AlertSink
    /// The shared runtime: connection, bus, stores, subscription, heartbeat, peer watch, health.
    public let runtime: ServiceRuntime

    /// Wires the service over its own connections.
    public init(config: MonitorConfiguration, version: String, logger: Logger) {
        self.config = config
        runtime = ServiceRuntime(identity: Self.identity, subscribing: [.heartbeat], common: config.common, version: version, logger: logger)
        alerts = AlertSink(bus: runtime.book, settings: config.alerts, logger: logger)
        reconciler = Reconciler(
            book: runtime.book, alerts: alerts, profile: config.common.profile,
            grace: config.interval, enabled: config.common.exitBrainEnabled, feeRate: config.common.feeRate,
            stopsRestAtVenue: Self.stopsRestAtVenue(config.common), protectionGrace: config.interval * 2, logger: logger)
        changes = ChangeFeed(configuration: config.common.redis, namespace: config.common.namespace, reconciler: reconciler)
        // Every series from the start, at zero (dashboards show 0 instead of "no data").
        _ = Counter(.plansCreated, dimensions: [("source", "RETROACTIVE")])
        _ = Counter(.retroactivePlans)
        _ = Counter(.stalePlansClosed)
        Gauge(.positionsUnprotected).record(0)
        _ = Counter(.plansClosed, dimensions: [("reason", ClosedReason.positionClosed.rawValue)])
    }

    /// For which symbols the SL must rest at the venue: `EXIT_ORDERS=VENUE`, exit brain on, and
    /// the symbol live by the same rules as the execution service's (nil: never, no check).
    static func stopsRestAtVenue(_ common: CommonConfiguration) -> (@Sendable (String) -> Bool)? {
        guard common.exitOrders == .venue, common.exitBrainEnabled else { return nil }
        let live = common.live
        return { live.mode(for: $0) == .live }
    }

    /// Runs until graceful shutdown or cancellation.
    public func run() async throws {
        runtime.logger.info(
            "monitoring service starting",
            metadata: [
                "redis": "\(config.common.redis)", "namespace": "\(config.common.namespace)",
                "interval_s": "\(config.interval.secondsValue)", "alert_sinks": "\(alerts.targets.joined(separator: ", "))",
            ])
        runtime.subscription.start()
        await changes.start()
        var loops: [@Sendable () async -> Void] = [
            { await self.reconcileLoop() },
            { await self.changes.run() },
            { await self.heartbeatLoop() },
            { for await _ in self.runtime.subscription.events {} },
            { await BucketWatch(leases: self.runtime.leases, ttl: self.config.common.leaseTTL, alerts: self.alerts, runtime: self.runtime).run() },
        ]
        // Every loop runs for the service's life (one ending stops the others): delivery only with a sink.
        if !alerts.targets.isEmpty { loops.append { await self.alerts.runDelivery() } }
        await runtime.run(loops, onShutdown: { self.changes.close() })
        await runtime.close()
    }

    private func reconcileLoop() async {
        var continuity = runtime.continuityMark
        while !Task.isCancelled {
            do {
                // A Redis primary switch (Sentinel): whatever was published meanwhile is lost,
                // and the next pass is a full one.
                let mark = runtime.continuityMark
                if mark != continuity {
                    continuity = mark
                    await reconciler.noteLostEvents()
                }
                await changes.checkIntact()
                let r = try await reconciler.pass()
                runtime.logger.debug(
                    "reconcile pass",
                    metadata: [
                        "positions": "\(r.positions)", "plans": "\(r.plans)", "created": "\(r.created)",
                        "closed": "\(r.closed)", "ms": "\(r.seconds * 1000)",
                    ])
            } catch {
                runtime.logger.warning("reconcile pass failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: config.interval)
        }
    }

    private func heartbeatLoop() async {
        var peerDown = false
        var seenPeer = false
        while !Task.isCancelled {
            await runtime.beat()
            HeapRelease.releaseIfWorthIt()  // what a burst freed goes back to the system
            let peer = await runtime.peerStatus()
            if peer.status == .ok {
                if peerDown {
                    alerts.clear(code: "PEER_DOWN", key: Self.identity.peer)
                    await alerts.raise(
                        AlertEvent(severity: .info, code: "PEER_BACK", message: "\(Self.identity.peer) heartbeats are back", key: Self.identity.peer)
                    )
                }
                alerts.clear(code: "PEER_BACK", key: Self.identity.peer)
                peerDown = false
                seenPeer = true
            } else if !peerDown && (seenPeer || runtime.uptime > (config.common.heartbeatInterval * 3).secondsValue) {
                peerDown = true
                let age = peer.age.map { String(format: "%.1f s ago", $0) } ?? "never seen"
                await alerts.raise(
                    AlertEvent(
                        severity: .critical, code: "PEER_DOWN", message: "\(Self.identity.peer) missed 3 heartbeats (last \(age))",
                        key: Self.identity.peer))
            }
            try? await Task.sleep(for: config.common.heartbeatInterval)
        }
    }

    /// The health answer, with the reconcile facts.
    public func healthReport() async -> HealthReport {
        await runtime.healthReport { [self] in
            let last = await reconciler.last
            let totals = await reconciler.totals
            let lastAt = await reconciler.lastPassAt
            let age = lastAt.map { (ContinuousClock().now - $0).secondsValue }
            let stalled = (age ?? runtime.uptime) > config.interval.secondsValue * 3 + 5
            return ServiceRuntime.OwnHealth(
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
        }
    }
}
