import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import Metrics
import RedisClient
import ServiceLifecycle

/// What every ExitBrain service is made of: its Redis connection, the bus, the plan and
/// position stores, its validated subscription (with its ping channel), its heartbeat, the
/// watch on its peer, the health probe, and the shared part of the health answer.
///
/// A service is a runtime plus its own loops and its own health entries: it hands
/// ``run(_:onShutdown:)`` its loops and ``healthReport(_:)`` what only it knows.
public final class ServiceRuntime: Sendable {
    /// Who a service is: its name in heartbeats, envelopes and health, the peer it watches,
    /// and its names in logs.
    public struct Identity: Sendable {
        /// `execution-service` or `monitoring-service`.
        public let name: String
        /// The peer whose heartbeats it watches.
        public let peer: String
        /// The label of its logger (`exitbrain.execution`); its HTTP server logs as `<label>.http`.
        public let logLabel: String
        /// The Redis connection's name in logs and errors.
        public let connectionName: String

        /// An identity.
        public init(name: String, peer: String, logLabel: String, connectionName: String) {
            self.name = name
            self.peer = peer
            self.logLabel = logLabel
            self.connectionName = connectionName
        }
    }

    /// What a service adds to the shared health answer.
    public struct OwnHealth: Sendable {
        /// Entries between `eventbus` and the peer, in answer order.
        public var dependencies: [(String, DependencyHealth)]
        /// The answer's `metrics` object.
        public var metrics: [(String, JSONValue)]
        /// True when the service's main loop is stalled (DEGRADED).
        public var loopStalled: Bool

        /// A service's part of the answer.
        public init(dependencies: [(String, DependencyHealth)] = [], metrics: [(String, JSONValue)] = [], loopStalled: Bool = false) {
            self.dependencies = dependencies
            self.metrics = metrics
            self.loopStalled = loopStalled
        }
    }

    /// The service's identity.
    public let identity: Identity
    /// This process's instance id (8 hex characters).
    public let instance: String
    /// The version reported in heartbeats and health.
    public let version: String
    /// The shared settings.
    public let common: CommonConfiguration
    /// The service's logger.
    public let logger: Logger
    /// The book in Redis (plans, positions, prices, paper orders), publishing as this service.
    public let book: RedisBook
    /// The service's validated inbound events, with its ping channel.
    public let subscription: EventSubscription
    /// `{ns}:exit:plans` and the history stream (for `/plans`).
    public var plans: PlanStore { book.plans }
    /// The bucket leases in Redis (docs/contract.md §12).
    public let leases: BucketLeases
    /// The leases this instance holds, when it is one that holds them (an execution instance):
    /// every plan write and order intent of its book is then fenced by them.
    public let leaseTable: LeaseTable?
    /// When the runtime was made.
    public let started = ContinuousClock().now
    private let redis: RedisConnection
    private let heartbeat: HeartbeatPublisher
    private let peers: PeerWatcher
    private let probe: HealthProbe

    /// A runtime subscribed to `types`; nothing connects until ``run(_:onShutdown:)``. With
    /// `holdingLeases`, the instance's writes are fenced by the bucket leases it holds.
    public init(
        identity: Identity, subscribing types: [EventType], common: CommonConfiguration, version: String, logger: Logger,
        holdingLeases: Bool = false
    ) {
        self.identity = identity
        self.common = common
        self.version = version
        self.logger = logger
        instance = String(RandomUUID.string().prefix(8)).lowercased()
        redis = RedisConnection(configuration: common.redis, name: identity.connectionName)
        let bus = EventBus(redis: redis, namespace: common.namespace, source: identity.name)
        leases = BucketLeases(redis: redis, namespace: common.namespace, buckets: common.buckets, service: "execution-service")
        leaseTable = holdingLeases ? LeaseTable(instance: instance, buckets: common.buckets, ttl: common.leaseTTL) : nil
        book = RedisBook(
            plans: PlanStore(redis: redis, namespace: common.namespace, bus: bus, fencing: leaseTable),
            positions: PositionStore(redis: redis, namespace: common.namespace), bus: bus)
        subscription = EventSubscription(
            configuration: common.redis, namespace: common.namespace, types: types,
            pingChannel: common.namespace.ping(service: identity.name, instance: instance), bus: bus, logger: logger)
        heartbeat = HeartbeatPublisher(bus: bus, service: identity.name, instance: instance, version: version, interval: common.heartbeatInterval)
        peers = PeerWatcher(redis: redis, namespace: common.namespace, interval: common.heartbeatInterval)
        probe = HealthProbe(redis: redis, subscription: subscription)
    }

    /// Writes one heartbeat; a failure is logged at debug level (the next beat tries again).
    /// Each beat also asks the primary for its replicas, which plan creations then wait for.
    public func beat(status: String = "OK") async {
        do { try await heartbeat.beat(status: status) } catch { logger.debug("heartbeat not written", metadata: ["error": "\(error)"]) }
        do { try await redis.checkReplicas() } catch { logger.debug("replicas not checked", metadata: ["error": "\(error)"]) }
    }

    /// The peer's status from its heartbeat key.
    public func peerStatus() async -> PeerStatus {
        await peers.status(of: identity.peer)
    }

    /// Runs the service's loops side by side until graceful shutdown (SIGTERM/SIGINT through
    /// the service group) or cancellation. On shutdown the subscription is closed, then
    /// `onShutdown` runs (closing whatever else feeds the loops), and the loops are cancelled.
    /// Each loop is meant to run for the service's life: the first one to end ends them all.
    /// Call ``close()`` when the service's last writes are done.
    public func run(_ loops: [@Sendable () async -> Void], onShutdown: @escaping @Sendable () -> Void = {}) async {
        await withTaskGroup(of: Void.self) { group in
            for loop in loops { group.addTask { await loop() } }
            group.addTask {
                try? await gracefulShutdown()
                self.logger.info("\(self.identity.name) stopping")
                self.subscription.close()
                onShutdown()
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Closes the command connection; the service is stopped.
    public func close() async {
        await redis.close()
        logger.info("\(identity.name) stopped")
    }

    /// The health answer of docs/contract.md §8: Redis, the event bus and the peer are checked side by
    /// side with the service's own part (`own`), so the answer takes as long as the slowest
    /// check, not their sum. Also records `exitbrain_health_status`.
    public func healthReport(_ own: @Sendable () async -> OwnHealth) async -> HealthReport {
        async let redisCheck = probe.redisHealth()
        async let busCheck = probe.eventBusHealth()
        async let peerCheck = peers.status(of: identity.peer)
        async let ownCheck = own()
        let (redisHealth, busHealth, peer, mine) = await (redisCheck, busCheck, peerCheck, ownCheck)
        var peerDetails: [(String, JSONValue)] = []
        if let age = peer.age {
            peerDetails.append(("heartbeat_age_s", .number((age * 10).rounded() / 10)))
        } else {
            peerDetails.append(("note", .string("no heartbeat seen")))
        }
        let report = HealthReport(
            service: identity.name, version: version, timestamp: Date(), uptimeSeconds: (ContinuousClock().now - started).secondsValue,
            dependencies: [("redis", redisHealth), ("eventbus", busHealth)] + mine.dependencies
                + [(identity.peer, DependencyHealth(status: peer.status, details: peerDetails))],
            metrics: mine.metrics,
            loopStalled: mine.loopStalled
        )
        Gauge(.healthStatus, dimensions: [("service", identity.name)]).record(report.status.gaugeValue)
        return report
    }

    /// Seconds since the runtime was made.
    public var uptime: Double { (ContinuousClock().now - started).secondsValue }

    /// When the Redis primary last switched (Sentinel), if it has since the start.
    public var lastPrimarySwitch: Date? { redis.primaryState.lastSwitch }

    /// A mark that changes whenever events may have been lost or the book may have changed
    /// unseen: the subscriber reconnected, or the Redis primary switched (Sentinel).
    public var continuityMark: String {
        let generation = subscription.subscriber.status.generation
        let switched = redis.primaryState.lastSwitch.map { String($0.timeIntervalSince1970) } ?? "-"
        return "\(generation)/\(switched)"
    }
}
