import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient
import Support
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Both services with `REDIS_SENTINELS` over a primary, two replicas and three sentinels, with
/// signals and ticks flowing: through `SENTINEL FAILOVER`, through a primary stopped (SIGSTOP)
/// past `down-after-milliseconds`, and through `CLIENT KILL TYPE pubsub`. Each time both are OK
/// again within 10 s, every position has a plan, no plan made before is lost, and a signal after
/// it gets its plan.
@Suite(
    "Sentinel failover with the services", .serialized, .enabled(if: TestRedis.isCI || TestProcess.find("redis-server") != nil, "needs redis-server"))
struct SentinelFailoverTests {
    enum Cause: String {
        case failover = "SENTINEL FAILOVER"
        case stopped = "SIGSTOP of the primary"
        case pubsubKilled = "CLIENT KILL TYPE pubsub"
    }

    @Test(arguments: [Cause.failover, .stopped, .pubsubKilled])
    func bothServicesFollowAndKeepTheBook(_ cause: Cause) async throws {
        let cluster = try await SentinelCluster(replicas: 2, sentinels: 3)
        let namespace = try Namespace("sentinel-\(getpid())-\(cause == .failover ? "f" : cause == .stopped ? "s" : "k")")
        let env: [String: String] = [
            "REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_SENTINELS": cluster.sentinels, "REDIS_SENTINEL_MASTER": "exitbrain",
            "REDIS_NAMESPACE": namespace.prefix, "EXIT_EXECUTOR_MODE": "LIVE", "HEARTBEAT_INTERVAL_S": "0.5", "MONITOR_INTERVAL_S": "1",
            "LOG_LEVEL": "info", "LOG_FORMAT": "json", "LEASE_TTL_S": "3",
        ]
        let execution = try ServiceUnderTest(.execution, environment: env)
        let monitor = try ServiceUnderTest(.monitor, environment: env)
        try await execution.waitLeases(within: .seconds(20))
        try await monitor.waitHealth(200, word: "OK", within: .seconds(20))
        let health = try await execution.get("/health").body
        #expect(health.contains(#""primary":"127.0.0.1:\#(cluster.primary.port)""#), "\(health)")
        #expect(health.contains(#""replicas":2"#) || !health.contains(#""replicas""#), "\(health)")

        let conn = RedisConnection(configuration: cluster.configuration)
        let feed = Feed(conn: conn, namespace: namespace)
        // Signals for new symbols and ticks for the planned ones, all through the switch.
        let flow = Task { await feed.run() }
        let clock = ContinuousClock()
        try await Task.sleep(for: .seconds(2))
        let before = try await Self.planKeys(conn, namespace)
        #expect(before.count >= 5, "plans made before the switch: \(before.count)")

        let oldPort = cluster.primary.port
        let triggered = clock.now
        var switchedAt = clock.now
        switch cause {
        case .failover:
            try #require(await cluster.failover(), "the sentinel accepted the failover")
        case .stopped:
            kill(try #require(cluster.primary.processIdentifier), SIGSTOP)
        case .pubsubKilled:
            let direct = RedisConnection(configuration: RedisConfiguration(port: oldPort))
            let killed = try await direct.send("CLIENT", "KILL", "TYPE", "pubsub").int ?? 0
            #expect(killed >= 2, "both services' subscribers were killed (\(killed))")
            await direct.close()
        }
        if cause != .pubsubKilled {
            let took = try #require(await cluster.waitForSwitch(from: oldPort), "the sentinels switched the primary")
            switchedAt = clock.now
            print("\(cause.rawValue): the sentinels named a new primary \(took) after it")
        }
        let newPort = await cluster.primaryPort() ?? oldPort
        var both = false
        while clock.now - switchedAt < .seconds(20) {
            let e = try? await execution.get("/health")
            let m = try? await monitor.get("/health")
            if let e, let m, e.body.contains(#""primary":"127.0.0.1:\#(newPort)""#), e.body.contains(#""status":"OK","version""#),
                m.body.contains(#""status":"OK","version""#)
            {
                both = true
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let okAfter = clock.now - switchedAt
        print("\(cause.rawValue): both services OK \(okAfter) after the switch (\(clock.now - triggered) after it was caused)")
        #expect(both, "both services OK after \(cause.rawValue):\n\(execution.output.suffix(2000))")
        #expect(okAfter <= .seconds(10), "OK again \(okAfter) after the switch, over 10 s")

        // A signal after the switch gets its plan; then the flow stops and the book settles.
        let late = "LATE\(getpid())USDT"
        try await feed.signal(late, id: "after-\(cause)")
        var planned = false
        let deadline = clock.now + .seconds(10)
        while clock.now < deadline, !planned {
            planned = (try? await conn.send("HEXISTS", namespace.plans, "\(late):LONG").int) == 1
            if !planned { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(planned, "a signal after \(cause.rawValue) gets its plan")
        flow.cancel()
        await flow.value
        try await Task.sleep(for: .seconds(2))
        let after = try await Self.planKeys(conn, namespace)
        let positions = Set(try await conn.send("HKEYS", namespace.positions).array?.compactMap(\.string) ?? [])
        #expect(before.isSubset(of: after), "plans lost: \(before.subtracting(after).sorted())")
        #expect(positions.isSubset(of: after), "positions without a plan: \(positions.subtracting(after).sorted())")
        print("\(cause.rawValue): \(before.count) plans before, \(after.count) after, \(positions.count) positions, \(feed.sent) signals sent")
        await execution.stop()
        await monitor.stop()
        await conn.close()
        await cluster.stop()
    }

    static func planKeys(_ conn: RedisConnection, _ namespace: Namespace) async throws -> Set<String> {
        Set(try await conn.send("HKEYS", namespace.plans).array?.compactMap(\.string) ?? [])
    }

    /// A signal for a new symbol every 200 ms and a tick for each symbol signalled, until cancelled;
    /// publishes that fail (the switch) are dropped, as a real feed's would be.
    final class Feed: @unchecked Sendable {
        let conn: RedisConnection
        let namespace: Namespace
        private(set) var sent = 0

        init(conn: RedisConnection, namespace: Namespace) {
            self.conn = conn
            self.namespace = namespace
        }

        func signal(_ symbol: String, id: String) async throws {
            let json =
                #"{"id":"\#(id)","type":"trade.signal","source":"sentinel-test","ts":"2026-11-25T18:38:24.123Z","data":{"symbol":"\#(symbol)","side":"BUY","quantity":0.01,"leverage":10,"price":100}}"#
            try await conn.send("PUBLISH", namespace.channel(.tradeSignal), json)
        }

        func run() async {
            var symbols: [String] = []
            var n = 0
            while !Task.isCancelled {
                n += 1
                let symbol = "F\(n)USDT"
                if (try? await signal(symbol, id: "feed-\(getpid())-\(n)")) != nil {
                    symbols.append(symbol)
                    sent += 1
                }
                for s in symbols.suffix(20) {
                    let tick =
                        #"{"id":"t-\#(n)-\#(s)","type":"market.tick","source":"sentinel-test","ts":"2026-11-25T18:38:24.123Z","data":{"symbol":"\#(s)","price":100.05}}"#
                    _ = try? await conn.send("PUBLISH", namespace.channel(.marketTick), tick)
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
