import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient
import Support
import Testing

/// Both services with `REDIS_SENTINELS` through a failover (SENTINEL FAILOVER): OK again soon
/// after the switch, the plan made before it still there, a signal after it planned.
@Suite(
    "Sentinel failover with the services", .serialized, .enabled(if: TestRedis.isCI || TestProcess.find("redis-server") != nil, "needs redis-server"))
struct SentinelFailoverTests {
    @Test func bothServicesFollowTheSwitchAndKeepTheBook() async throws {
        let cluster = try await SentinelCluster()
        let namespace = try Namespace("sentinel-\(getpid())")
        let env: [String: String] = [
            "REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_SENTINELS": cluster.sentinels, "REDIS_SENTINEL_MASTER": "exitbrain",
            "REDIS_NAMESPACE": namespace.prefix, "EXIT_EXECUTOR_MODE": "LIVE", "HEARTBEAT_INTERVAL_S": "0.5", "MONITOR_INTERVAL_S": "1",
            "LOG_LEVEL": "info", "LOG_FORMAT": "json",
        ]
        let execution = try ServiceUnderTest(.execution, environment: env)
        let monitor = try ServiceUnderTest(.monitor, environment: env)
        try await execution.waitHealth(200, word: "OK", within: .seconds(20))
        try await monitor.waitHealth(200, word: "OK", within: .seconds(20))
        let health = try await execution.get("/health").body
        #expect(health.contains(#""primary":"127.0.0.1:\#(cluster.primary.port)""#), "\(health)")

        let conn = RedisConnection(configuration: cluster.configuration)
        func signal(_ id: String, _ symbol: String) async throws {
            let json =
                #"{"id":"\#(id)","type":"trade.signal","source":"sentinel-test","ts":"2026-11-25T18:38:24.123Z","data":{"symbol":"\#(symbol)","side":"BUY","quantity":0.01,"leverage":10,"price":50000}}"#
            try await conn.send("PUBLISH", namespace.channel(.tradeSignal), json)
        }
        func planned(_ key: String) async -> Bool { (try? await conn.send("HEXISTS", namespace.plans, key).int) == 1 }
        try await signal("before-switch", "BTCUSDT")
        let clock = ContinuousClock()
        var deadline = clock.now + .seconds(10)
        while clock.now < deadline, await !planned("BTCUSDT:LONG") { try await Task.sleep(for: .milliseconds(100)) }
        #expect(await planned("BTCUSDT:LONG"), "a plan before the switch")
        // Let the replica have it before the switch (asynchronous replication).
        _ = try await conn.send("WAIT", 1, 2000)

        let failedOver = await cluster.failover()
        try #require(failedOver, "the sentinel accepted the failover")
        let switched = clock.now
        deadline = clock.now + .seconds(20)
        var both = false
        while clock.now < deadline {
            let e = try? await execution.get("/health")
            let m = try? await monitor.get("/health")
            if let e, let m, e.status == 200, m.status == 200, e.body.contains(#""primary":"127.0.0.1:\#(cluster.replica.port)""#),
                e.body.contains(#""status":"OK","version""#), m.body.contains(#""status":"OK","version""#)
            {
                both = true
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let took = clock.now - switched
        print("both services OK on the new primary \(took) after the failover was asked")
        #expect(both, "both services OK on the new primary within 20 s:\n\(execution.output.suffix(1500))")
        #expect(await planned("BTCUSDT:LONG"), "the plan made before the switch is still there")
        try await signal("after-switch", "ETHUSDT")
        deadline = clock.now + .seconds(10)
        while clock.now < deadline, await !planned("ETHUSDT:LONG") { try await Task.sleep(for: .milliseconds(100)) }
        #expect(await planned("ETHUSDT:LONG"), "a signal after the switch gets its plan")
        await execution.stop()
        await monitor.stop()
        await conn.close()
        await cluster.stop()
    }
}
