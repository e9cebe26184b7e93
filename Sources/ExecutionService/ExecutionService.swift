import BinanceVenue
import ExitBrainCoordination
import ExitBrainDomain
import ExitBrainService
import Foundation
import Logging
import Metrics
import PaperVenue
import ServiceLifecycle
import Synchronization
import Venue

/// `exitbrain execution`: subscribes to signals and ticks, runs the engine, beats its heartbeat,
/// watches the monitor's, and answers health. Starts even when Redis is down (health DOWN) and
/// keeps retrying with capped backoff.
public final class ExecutionService: RunnableService {
    /// Who it is: `execution-service`, watching `monitoring-service`.
    public static let identity = ServiceRuntime.Identity(
        name: "execution-service", peer: "monitoring-service", logLabel: "exitbrain.execution", connectionName: "exec-redis")
    /// When the housekeeping loop last ran, and how late.
    private let loop = Mutex(LoopState())
    /// The venue alarm last raised.
    private let raisedAlarm = Mutex<String?>(nil)

    /// The configuration.
    public let config: ExecutionConfiguration
    /// The engine (for tests and the demo's summary).
    public let engine: ExecutionEngine
    /// The shared runtime: connection, bus, stores, subscription, heartbeat, peer watch, health.
    public let runtime: ServiceRuntime
    /// The venue orders go to.
    public let venue: any Venue
    /// The paper venue's book, on a connection of its own.
    private let venueBook: RedisBook
    /// The engine's periodic reads of every plan, on a connection of their own.
    private let readerBook: RedisBook
    /// The bucket leases' loop.
    let keeper: LeaseKeeper

    struct LoopState {
        var lastLoop: ContinuousClock.Instant?
        var lagMs: Double = 0
    }

    /// Creates this service's counters at zero, so that dashboards and alert rules see every
    /// series from the start instead of "no data" until the first event.
    static func registerMetrics() {
        for purpose in OrderPurpose.allCases.map(\.rawValue) {
            _ = Counter(.orders, dimensions: [("purpose", purpose)])
            _ = Counter(.fills, dimensions: [("purpose", purpose)])
        }
        for kind in LegKind.allCases {
            for shadow in ["true", "false"] {
                _ = Counter(.legsTriggered, dimensions: [("kind", kind.rawValue), ("shadow", shadow)])
            }
        }
        _ = Counter(.plansCreated, dimensions: [("source", "EXECUTION")])
        for reason in ClosedReason.allCases {
            _ = Counter(.plansClosed, dimensions: [("reason", reason.rawValue)])
        }
        _ = Counter(.signals, dimensions: [("result", "accepted"), ("reason", "")])
        for type in [EventType.tradeSignal, .marketTick] {
            _ = Counter(.eventsHandled, dimensions: [("type", type.rawValue)])
        }
    }

    /// Wires the service over its own connections.
    public init(config: ExecutionConfiguration, version: String, logger: Logger) {
        self.config = config
        runtime = ServiceRuntime(
            identity: Self.identity, subscribing: [.tradeSignal, .marketTick], common: config.common, version: version, logger: logger,
            holdingLeases: true)
        // With `holdingLeases` the runtime always has a table.
        let table = runtime.leaseTable ?? LeaseTable(instance: runtime.instance, buckets: config.common.buckets, ttl: config.common.leaseTTL)
        keeper = LeaseKeeper(leases: runtime.leases, table: table, runtime: runtime, logger: logger)
        venueBook = RedisBook(
            configuration: config.common.redis, namespace: config.common.namespace, source: Self.identity.name, connectionName: "paper-venue-redis")
        if let binance = config.binance {
            venue = BinanceVenue(settings: binance, logger: logger)
        } else {
            venue = PaperVenue(book: venueBook, slippageBps: config.slippageBps, faults: config.paperFaults, logger: logger)
        }
        readerBook = RedisBook(
            configuration: config.common.redis, namespace: config.common.namespace, source: Self.identity.name, connectionName: "exec-reader-redis")
        engine = ExecutionEngine(config: config, book: runtime.book, venue: venue, logger: logger, leases: table, reader: readerBook)
        Self.registerMetrics()
    }

    /// Runs until graceful shutdown (SIGTERM/SIGINT through the service group) or cancellation.
    public func run() async throws {
        runtime.logger.info(
            "execution service starting",
            metadata: [
                "redis": "\(config.common.redis)", "namespace": "\(config.common.namespace)", "mode": "\(config.modeWord)",
                "profile": "\(config.common.profile.rawValue)", "exchange": "\(config.exchange.rawValue)",
                "exit_orders": "\(config.exitOrders.rawValue)",
            ])
        runtime.subscription.start(pumping: false)
        await runtime.run([
            { await self.keeper.run() }, { await self.followLeases() }, { await self.consume() }, { await self.housekeeping() },
            { await self.followVenue() }, { await self.engine.workOrders() },
        ])
        await engine.flushPrices()
        await keeper.releaseAll()
        if let binance = venue as? BinanceVenue { await binance.shutdown() }
        await venueBook.close()
        await readerBook.close()
        await runtime.close()
    }

    /// The most events taken at once from the bus (and so the most lanes handled side by side).
    static let batchLimit = 256

    /// Handles the bus's events as they come; what arrived meanwhile is taken as one batch and
    /// handled in ``EventLanes``: different symbols' signals and ticks side by side.
    private func consume() async {
        let ticks = Counter(.eventsHandled, dimensions: [("type", EventType.marketTick.rawValue)])
        let signals = Counter(.eventsHandled, dimensions: [("type", EventType.tradeSignal.rawValue)])
        let subscription = runtime.subscription
        let engine = engine
        let namespace = config.common.namespace
        @Sendable func handle(_ event: InboundEvent) async {
            switch event {
            case .tick: ticks.increment()
            case .signal: signals.increment()
            case .heartbeat: break
            }
            guard let rejection = await engine.handle(event) else { return }
            let text: String
            if case .signal(let s, _) = event {
                text = "\(s.side.rawValue) \(s.quantity) \(s.symbol)"
            } else {
                text = event.meta.type
            }
            await subscription.reject(rejection, channel: namespace.channel(named: event.meta.type), payload: Array(text.utf8))
        }
        await subscription.runInBatches(of: Self.batchLimit) { events in
            await EventLanes.run(events.map { (EventLanes.symbol(of: $0), $0) }, handle)
        }
    }

    /// Applies the venue's events: what arrived while the engine was busy is taken as one batch,
    /// each symbol's events in order, different symbols' side by side. Reconciliation with
    /// the venue comes with each bucket the instance takes (``followLeases()``: at a start,
    /// every bucket it gets) and after any gap in the venue's events; the subscription is taken
    /// at once, so nothing that happens meanwhile is lost.
    private func followVenue() async {
        await engine.follow(await venue.events())
    }

    /// Hands the lease loop's news to the engine: lost buckets forgotten, acquired ones
    /// reconciled (again a second later while that fails, for the buckets still held).
    private func followLeases() async {
        for await change in keeper.changes {
            var acquired = change.acquired
            var lost = change.lost
            while !Task.isCancelled {
                do {
                    try await engine.leasesChanged(acquired: acquired, lost: lost)
                    break
                } catch {
                    runtime.logger.warning("acquired buckets not reconciled; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                    lost = []
                    acquired = acquired.intersection(keeper.table.held.keys)
                }
            }
        }
    }

    private func housekeeping() async {
        let clock = ContinuousClock()
        var lastResync = clock.now - .seconds(60)
        var lastBeat = clock.now - .seconds(60)
        var continuity = runtime.continuityMark
        let period = Duration.milliseconds(250)
        while !Task.isCancelled {
            let start = clock.now
            // Pub/sub lost whatever was sent while the subscriber was away (a reconnect, a
            // Sentinel switch): the whole book is read again.
            let mark = runtime.continuityMark
            if mark != continuity {
                continuity = mark
                await engine.readEverythingNext()
                lastResync = clock.now - .seconds(60)
            }
            if clock.now - lastResync >= .seconds(2) {
                do {
                    try await engine.resync()
                    lastResync = clock.now
                } catch {
                    runtime.logger.debug("plan resync failed", metadata: ["error": "\(error)"])
                    lastResync = clock.now - .seconds(1)
                }
            }
            await engine.flushPrices()
            await engine.maintainOrders()
            if clock.now - lastBeat >= config.common.heartbeatInterval {
                lastBeat = clock.now
                await runtime.beat()
                HeapRelease.releaseIfWorthIt()  // what a burst freed goes back to the system
                await watchVenueAlarm()
            }
            try? await Task.sleep(for: period)
            let lag = max(0, (clock.now - start - period).secondsValue * 1000)
            loop.withLock {
                $0.lastLoop = clock.now
                $0.lagMs = lag
            }
            Gauge(.loopLag).record(lag / 1000)
        }
    }

    /// A venue alarm (a ban, a refused key) raised as a critical alert once, and cleared with an
    /// info alert when it ends.
    private func watchVenueAlarm() async {
        let alarm = await venue.health().alarm
        let previous = raisedAlarm.withLock { raised in
            defer { raised = alarm?.code }
            return raised
        }
        guard alarm?.code != previous else { return }
        let event: AlertEvent
        if let alarm {
            runtime.logger.critical("venue alarm", metadata: ["code": "\(alarm.code)", "message": "\(alarm.message)"])
            event = AlertEvent(severity: .critical, code: alarm.code, message: alarm.message)
        } else {
            event = AlertEvent(severity: .info, code: "VENUE_BACK", message: "the venue accepts requests again (\(previous ?? "alarm") ended)")
        }
        do { _ = try await runtime.book.publish(.alert, event) } catch {
            runtime.logger.error("venue alert not published", metadata: ["error": "\(error)"])
        }
    }

    /// The health answer of docs/contract.md §8.
    public func healthReport() async -> HealthReport {
        await runtime.healthReport { [self] in
            let plans = await engine.activePlanCount
            let (lastLoop, lag) = loop.withLock { ($0.lastLoop, $0.lagMs) }
            let loopAge = lastLoop.map { (ContinuousClock().now - $0).secondsValue } ?? runtime.uptime
            let exitBrain: DependencyHealth =
                config.common.exitBrainEnabled
                ? DependencyHealth(status: .ok, details: [("mode", .string(config.modeWord)), ("active_plans", .int(plans))])
                : DependencyHealth(
                    status: .notApplicable, details: [("note", .string("EXIT_BRAIN_V3_ENABLED=false: no plans are created or executed"))])
            let venueHealth = await venue.health()
            var venueDetails: [(String, JSONValue)] = [("kind", .string(venueHealth.kind))]
            for (name, value) in venueHealth.details {
                venueDetails.append((name, Int(value).map { .int($0) } ?? Double(value).map { .number($0) } ?? .string(value)))
            }
            venueDetails.append(("orders_unknown", .int(await engine.unknownCount)))
            let exchange = DependencyHealth(
                status: !venueHealth.reachable ? .down : venueHealth.degraded ? .degraded : .ok, details: venueDetails)
            let leases = keeper.current
            let held = keeper.table.held.keys.sorted()
            var leaseDetails: [(String, JSONValue)] = [
                ("instance", .string(runtime.instance)), ("held", .array(held.map { .int($0) })), ("share", .int(leases.share)),
                ("buckets", .int(config.common.buckets.count)), ("live_instances", .int(leases.live)),
            ]
            if leases.waitingAfterSwitch { leaseDetails.append(("note", .string("Redis primary switched: acquiring waits one lease time"))) }
            if let error = leases.error { leaseDetails.append(("error", .string(error))) }
            if let disagreement = leases.disagreement {
                leaseDetails.append(("error", .string("EXECUTION_BUCKETS differs between instances: \(disagreement)")))
            }
            // Fewer buckets than its share: waiting for leases (a predecessor's, after a crash,
            // expire after their lease time) and not managing all it should.
            let waiting = held.count < leases.share
            if waiting { leaseDetails.append(("note", .string("holds fewer buckets than its share; waiting for free leases"))) }
            let leaseHealth = DependencyHealth(
                status: leases.error == nil && leases.disagreement == nil && leases.lastPass != nil && !waiting ? .ok : .degraded,
                details: leaseDetails)
            return ServiceRuntime.OwnHealth(
                dependencies: [
                    ("exchange", exchange),
                    ("exit_brain", exitBrain),
                    ("leases", leaseHealth),
                ],
                metrics: [("loop_lag_ms", .number((lag * 10).rounded() / 10)), ("last_loop_age_s", .number((loopAge * 10).rounded() / 10))],
                loopStalled: loopAge > 10
            )
        }
    }
}
