import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient
import Support
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Health model")
struct HealthModelTests {
    func report(_ deps: [(String, HealthStatus)], stalled: Bool = false) -> HealthReport {
        HealthReport(
            service: "execution-service", version: "1", timestamp: Date(timeIntervalSince1970: 0), uptimeSeconds: 1,
            dependencies: deps.map { ($0.0, DependencyHealth(status: $0.1)) }, loopStalled: stalled)
    }

    @Test func statusRules() {
        #expect(report([("redis", .ok), ("eventbus", .ok)]).status == .ok)
        #expect(report([("redis", .down), ("eventbus", .ok)]).status == .down)
        #expect(report([("redis", .ok), ("eventbus", .down)]).status == .down)
        #expect(report([("redis", .degraded), ("eventbus", .ok)]).status == .degraded)
        #expect(report([("redis", .ok), ("monitoring-service", .down)]).status == .degraded, "a silent peer degrades, never downs")
        #expect(report([("redis", .ok), ("exit_brain", .notApplicable)]).status == .ok, "N/A never lowers the status")
        #expect(report([("redis", .ok)], stalled: true).status == .degraded)
        #expect(report([("redis", .down)]).httpStatus == 503)
        #expect(report([("redis", .degraded)]).httpStatus == 200)
    }

    @Test func jsonShape() {
        var r = report([("redis", .ok)])
        r.dependencies = [
            ("redis", DependencyHealth(status: .ok, latencyMs: 0.41)),
            ("eventbus", DependencyHealth(status: .ok, details: [("roundtrip_ms", .number(0.9))])),
        ]
        r.metrics = [("loop_lag_ms", .number(1))]
        #expect(
            r.json
                == #"{"service":"execution-service","status":"OK","version":"1","timestamp":"1970-01-01T00:00:00.000Z","uptime_seconds":1.0,"dependencies":{"redis":{"status":"OK","latency_ms":0.41},"eventbus":{"status":"OK","details":{"roundtrip_ms":0.9}}},"metrics":{"loop_lag_ms":1.0}}"#
        )
    }
}

@Suite("Heartbeats and health on real Redis", .enabled(if: TestRedis.enabled))
struct HeartbeatHealthTests {
    @Test func heartbeatExpiryTurnsPeerDown() async throws {
        let f = try await CoordinationFixture(label: "hb")
        let hb = HeartbeatPublisher(bus: f.bus, service: "monitoring-service", instance: "i1", version: "1", interval: .milliseconds(700))
        let watcher = PeerWatcher(redis: f.redis, namespace: f.namespace, interval: .milliseconds(700))
        #expect(await watcher.status(of: "monitoring-service").status == .down, "no beat yet")
        try await hb.beat(status: "OK")
        let up = await watcher.status(of: "monitoring-service")
        #expect(up.status == .ok)
        #expect((up.age ?? 99) < 2.1)
        #expect(up.reported == "OK")
        try await Task.sleep(for: .milliseconds(2300))
        #expect(await watcher.status(of: "monitoring-service").status == .down, "three missed beats")
        await f.cleanup()
    }

    @Test func redisStoppedIsDownAndRestartedIsOK() async throws {
        let server = try await RedisTestServer()
        let config = server.configuration(commandTimeoutMilliseconds: 500)
        let ns = try Namespace("hlt")
        let redis = RedisConnection(configuration: config)
        let bus = EventBus(redis: redis, namespace: ns, source: "t")
        let sub = EventSubscription(
            configuration: config, namespace: ns, types: [.tradeSignal], pingChannel: ns.ping(service: "t", instance: "1"), bus: bus,
            logger: testLogger)
        sub.start()
        #expect(await sub.subscriber.waitUntilSubscribed())
        let probe = HealthProbe(redis: redis, subscription: sub)
        // Connected first: the health answer then times a round trip, not the connect.
        try await redis.connect()
        let before = await Self.okWithin(probe)
        #expect(before.ok, "health is OK while Redis is up: \(before.last)")
        await server.stop()
        #expect(await probe.redisHealth().status == .down)
        #expect(await probe.eventBusHealth().status == .down)
        try await server.start()
        let after = await Self.okWithin(probe)
        #expect(after.ok, "health is OK again after Redis comes back: \(after.last)")
        sub.close()
    }

    /// Whether Redis and the event bus are both OK within 5 s of asking (on a machine busy with
    /// the suite's other tests one round trip can be slow enough to read DEGRADED), and the last answers.
    static func okWithin(_ probe: HealthProbe) async -> (ok: Bool, last: [DependencyHealth]) {
        var last: [DependencyHealth] = []
        for _ in 0..<100 {
            last = [await probe.redisHealth(), await probe.eventBusHealth()]
            if last.allSatisfy({ $0.status == .ok }) { return (true, last) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return (false, last)
    }

    @Test func aPlanNoReplicaAcknowledgesMakesRedisDegradedUntilOneDoes() async throws {
        let cluster = try await SentinelCluster(replicas: 1, sentinels: 1)
        var config = RedisConfiguration(port: cluster.primary.port)
        config.replicaWaitMilliseconds = 1000
        let ns = try Namespace("wait-\(getpid())")
        let redis = RedisConnection(configuration: config)
        let bus = EventBus(redis: redis, namespace: ns, source: "t")
        let plans = PlanStore(redis: redis, namespace: ns, bus: bus)
        let sub = EventSubscription(
            configuration: config, namespace: ns, types: [.tradeSignal], pingChannel: ns.ping(service: "t", instance: "1"), bus: bus,
            logger: testLogger)
        let probe = HealthProbe(redis: redis, subscription: sub)
        #expect(try await redis.checkReplicas() == 1, "as the services' heartbeat asks")
        #expect(try await plans.getOrCreate(try CoordinationFixture.plan(symbol: "BTCUSDT"), retroactive: false).created)
        #expect(redis.replication.lastAcknowledged == 1)
        let acknowledged = await probe.redisHealth()
        #expect(acknowledged.status == .ok)
        #expect(acknowledged.details.contains { $0.0 == "replicas" && $0.1 == .int(1) }, "\(acknowledged.details)")
        // The replica stops answering: the next plan is acknowledged by nobody within the wait.
        let replica = try #require(cluster.replica.processIdentifier)
        kill(replica, SIGSTOP)
        #expect(try await plans.getOrCreate(try CoordinationFixture.plan(symbol: "ETHUSDT"), retroactive: false).created)
        #expect(redis.replication.lastAcknowledged == 0)
        let degraded = await probe.redisHealth()
        #expect(degraded.status == .degraded, "\(degraded.details)")
        kill(replica, SIGCONT)
        #expect(try await plans.getOrCreate(try CoordinationFixture.plan(symbol: "SOLUSDT"), retroactive: false).created)
        #expect(await probe.redisHealth().status == .ok)
        await redis.close()
        await cluster.stop()
    }
}
