import ExitBrainCoordination
import ExitBrainDomain
import ExitBrainService
import Foundation
import Logging
import Metrics
import RedisClient
import ServiceLifecycle
import Synchronization

/// `exitbrain execution`: subscribes to signals and ticks, runs the engine, beats its heartbeat,
/// watches the monitor's, and answers health. Starts even when Redis is down (health DOWN) and
/// keeps retrying with capped backoff.
public final class ExecutionService: Service, HealthSource {
    /// The service name used in heartbeats, envelopes and health.
    public static let name = "execution-service"
    /// The peer it watches.
    public static let peer = "monitoring-service"

    /// The configuration.
    public let config: ExecutionConfiguration
    /// The engine (for tests and the demo's summary).
    public let engine: ExecutionEngine
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
    private let loop = Mutex(LoopState())

    struct LoopState {
        var lastLoop: ContinuousClock.Instant?
        var lagMs: Double = 0
    }

    /// Wires the service over its own connections.
    /// Creates this service's counters at zero, so that dashboards and alert rules see every
    /// series from the start instead of "no data" until the first event.
    static func registerMetrics() {
        for purpose in ["ENTRY", "EXIT"] {
            _ = Counter(label: "exitbrain_orders_total", dimensions: [("purpose", purpose)])
            _ = Counter(label: "exitbrain_fills_total", dimensions: [("purpose", purpose)])
        }
        for kind in LegKind.allCases {
            for shadow in ["true", "false"] {
                _ = Counter(label: "exitbrain_legs_triggered_total", dimensions: [("kind", kind.rawValue), ("shadow", shadow)])
            }
        }
        _ = Counter(label: "exitbrain_plans_created_total", dimensions: [("source", "EXECUTION")])
        for reason in ClosedReason.allCases {
            _ = Counter(label: "exitbrain_plans_closed_total", dimensions: [("reason", reason.rawValue)])
        }
        _ = Counter(label: "exitbrain_signals_total", dimensions: [("result", "accepted"), ("reason", "")])
        for type in [EventType.tradeSignal, .marketTick] {
            _ = Counter(label: "exitbrain_events_handled_total", dimensions: [("type", type.rawValue)])
        }
    }

    public init(config: ExecutionConfiguration, version: String, logger: Logger) {
        self.config = config
        self.version = version
        self.logger = logger
        let instance = String(UUID().uuidString.prefix(8)).lowercased()
        redis = RedisConnection(configuration: config.common.redis, name: "exec-redis")
        let bus = EventBus(redis: redis, namespace: config.common.namespace, source: Self.name)
        planStore = PlanStore(redis: redis, namespace: config.common.namespace, bus: bus)
        let positions = PositionStore(redis: redis, namespace: config.common.namespace)
        subscription = EventSubscription(configuration: config.common.redis, namespace: config.common.namespace,
                                         types: [.tradeSignal, .marketTick],
                                         pingChannel: config.common.namespace.ping(service: Self.name, instance: instance),
                                         bus: bus, logger: logger)
        heartbeat = HeartbeatPublisher(bus: bus, service: Self.name, instance: instance, version: version, interval: config.common.heartbeatInterval)
        peers = PeerWatcher(redis: redis, namespace: config.common.namespace, interval: config.common.heartbeatInterval)
        probe = HealthProbe(redis: redis, subscription: subscription)
        engine = ExecutionEngine(config: config, plans: planStore, positions: positions, bus: bus, logger: logger)
        Self.registerMetrics()
    }

    /// Runs until graceful shutdown (SIGTERM/SIGINT through the service group) or cancellation.
    public func run() async throws {
        logger.info("execution service starting", metadata: [
            "redis": "\(config.common.redis)", "namespace": "\(config.common.namespace)", "mode": "\(config.modeWord)",
            "profile": "\(config.profile.rawValue)", "exchange": "\(config.exchange.rawValue)",
        ])
        subscription.start(pumping: false)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.consume() }
            group.addTask { await self.housekeeping() }
            group.addTask {
                try? await gracefulShutdown()
                self.logger.info("execution service stopping: no new signals, finishing in-flight writes")
                self.subscription.close()
            }
            await group.next()
            group.cancelAll()
        }
        await engine.flushPrices()
        await redis.close()
        logger.info("execution service stopped")
    }

    private func consume() async {
        let ticks = Counter(label: "exitbrain_events_handled_total", dimensions: [("type", EventType.marketTick.rawValue)])
        let signals = Counter(label: "exitbrain_events_handled_total", dimensions: [("type", EventType.tradeSignal.rawValue)])
        await subscription.run { event in
            switch event {
            case .tick: ticks.increment()
            case .signal: signals.increment()
            case .heartbeat: break
            }
            if let rejection = await engine.handle(event) {
                let text: String
                if case .signal(let s, _) = event {
                    text = "\(s.side.rawValue) \(s.quantity) \(s.symbol)"
                } else {
                    text = event.meta.type
                }
                await subscription.reject(rejection, channel: config.common.namespace.channel(named: event.meta.type), payload: Array(text.utf8))
            }
        }
    }

    private func housekeeping() async {
        let clock = ContinuousClock()
        var lastResync = clock.now - .seconds(60)
        var lastBeat = clock.now - .seconds(60)
        let period = Duration.milliseconds(250)
        while !Task.isCancelled {
            let start = clock.now
            if clock.now - lastResync >= .seconds(2) {
                do {
                    try await engine.resync()
                    lastResync = clock.now
                } catch {
                    logger.debug("plan resync failed", metadata: ["error": "\(error)"])
                    lastResync = clock.now - .seconds(1)
                }
            }
            await engine.flushPrices()
            if clock.now - lastBeat >= config.common.heartbeatInterval {
                lastBeat = clock.now
                do { try await heartbeat.beat(status: "OK") } catch { logger.debug("heartbeat not written", metadata: ["error": "\(error)"]) }
            }
            try? await Task.sleep(for: period)
            let lag = max(0, (clock.now - start - period).secondsValue * 1000)
            loop.withLock {
                $0.lastLoop = clock.now
                $0.lagMs = lag
            }
            Gauge(label: "exitbrain_loop_lag_seconds").record(lag / 1000)
        }
    }

    /// The health answer of CONTRACT §8.
    public func healthReport() async -> HealthReport {
        // The checks run side by side: the answer takes as long as the slowest, not their sum.
        async let redisCheck = probe.redisHealth()
        async let busCheck = probe.eventBusHealth()
        async let peerCheck = peers.status(of: Self.peer)
        let (redisHealth, busHealth, peer) = await (redisCheck, busCheck, peerCheck)
        let plans = await engine.activePlanCount
        let (lastLoop, lag) = loop.withLock { ($0.lastLoop, $0.lagMs) }
        let loopAge = lastLoop.map { (ContinuousClock().now - $0).secondsValue } ?? (ContinuousClock().now - started).secondsValue
        var peerDetails: [(String, JSONValue)] = []
        if let age = peer.age { peerDetails.append(("heartbeat_age_s", .number((age * 10).rounded() / 10))) } else { peerDetails.append(("note", .string("no heartbeat seen"))) }
        let exitBrain: DependencyHealth = config.exitBrainEnabled
            ? DependencyHealth(status: .ok, details: [("mode", .string(config.modeWord)), ("active_plans", .int(plans))])
            : DependencyHealth(status: .notApplicable, details: [("note", .string("EXIT_BRAIN_V3_ENABLED=false: no plans are created or executed"))])
        let report = HealthReport(
            service: Self.name, version: version, timestamp: Date(), uptimeSeconds: (ContinuousClock().now - started).secondsValue,
            dependencies: [
                ("redis", redisHealth),
                ("eventbus", busHealth),
                ("exchange", DependencyHealth(status: .ok, details: [("kind", .string(config.exchange.rawValue))])),
                ("exit_brain", exitBrain),
                (Self.peer, DependencyHealth(status: peer.status, details: peerDetails)),
            ],
            metrics: [("loop_lag_ms", .number((lag * 10).rounded() / 10)), ("last_loop_age_s", .number((loopAge * 10).rounded() / 10))],
            loopStalled: loopAge > 10
        )
        Gauge(label: "exitbrain_health_status", dimensions: [("service", Self.name)]).record(report.status.gaugeValue)
        return report
    }
}
