import ChildProcesses
import Foundation
import RedisClient
import Support
import Testing

/// Redis Sentinel from the client: a primary, a replica and a sentinel as real processes
/// (`redis-server --sentinel`); the connection and the subscriber find the primary through the
/// sentinel, follow a failover, and say clearly when no sentinel answers or knows the primary.
@Suite("Sentinel", .serialized, .enabled(if: TestRedis.isCI || TestProcess.find("redis-server") != nil, "needs redis-server"))
struct SentinelTests {
    @Test func theConnectionAndTheSubscriberFollowAFailover() async throws {
        let cluster = try await SentinelCluster()
        let conn = RedisConnection(configuration: cluster.configuration)
        try await conn.send("SET", "before", "1")
        #expect(conn.primaryState.address == "127.0.0.1:\(cluster.primary.port)")
        let subscriber = RedisSubscriber(configuration: cluster.configuration, channels: ["news"])
        subscriber.start()
        let received = Task { () -> [String] in
            var seen: [String] = []
            for await message in subscriber.messages {
                seen.append(String(decoding: message.payload, as: UTF8.self))
                if seen.contains("after") { break }
            }
            return seen
        }
        // WAIT: the replica acknowledges what this connection wrote (once ROLE lists it: a
        // sentinel may have the replica reconnect as it takes over its configuration).
        var acknowledged: Int?
        for _ in 0..<40 where acknowledged != 1 {
            try await conn.checkReplicas()
            acknowledged = try await conn.waitForReplica()
            if acknowledged != 1 { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(acknowledged == 1)
        #expect(conn.replication.replicas == 1 && conn.replication.lastAcknowledged == 1)
        // The +switch-master hint: the process's watch of this primary.
        let watch = SentinelWatch.shared(for: cluster.configuration)
        let generation = watch.generation
        let failedOver = await cluster.failover()
        try #require(failedOver, "the sentinel accepted the failover")
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(15)
        var written = false
        while clock.now < deadline {
            if (try? await conn.send("SET", "after", "2")) != nil, conn.primaryState.address == "127.0.0.1:\(cluster.replica.port)" {
                written = true
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(written, "a write lands on the new primary within 15 s (now \(conn.primaryState.address ?? "none"))")
        #expect(conn.primaryState.lastSwitch != nil, "the switch is noted")
        #expect(watch.generation == generation + 1, "one +switch-master noted for the switch")
        #expect(watch.lastSwitch?.hasSuffix("127.0.0.1 \(cluster.replica.port)") == true, "\(watch.lastSwitch ?? "no switch")")
        let direct = RedisConnection(configuration: RedisConfiguration(port: cluster.replica.port))
        #expect(try await direct.send("GET", "after").string == "2")
        #expect(try await direct.send("GET", "before").string == "1", "what the old primary had was replicated")
        // The subscriber is on the new primary too: a message published there reaches it.
        let published = Task {
            while !Task.isCancelled {
                _ = try? await conn.send("PUBLISH", "news", "after")
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        let outcome = await withTaskGroup(of: [String]?.self) { group in
            group.addTask { await received.value }
            group.addTask {
                try? await Task.sleep(for: .seconds(15))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        published.cancel()
        #expect(outcome?.contains("after") == true, "the subscriber resubscribed on the new primary")
        subscriber.close()
        await conn.close()
        await direct.close()
        await cluster.stop()
    }

    @Test func noSentinelReachableAndNoSentinelKnowingThePrimaryAreClearErrors() async throws {
        var nobody = RedisConfiguration(port: 1, connectTimeoutMilliseconds: 300)
        nobody.sentinels = [SentinelAddress(host: "127.0.0.1", port: try LoopbackPort.free())]
        let unreachable = RedisConnection(configuration: nobody)
        await #expect(throws: RedisError.self) { try await unreachable.send("PING") }
        do { try await unreachable.send("PING") } catch {
            #expect(error.message.contains("no sentinel reachable") || error.message.contains("is down"), "\(error.message)")
        }
        let cluster = try await SentinelCluster()
        var unknown = cluster.configuration
        unknown.sentinelMaster = "nobody"
        let conn = RedisConnection(configuration: unknown)
        do {
            try await conn.send("PING")
            Issue.record("a primary no sentinel knows is an error")
        } catch {
            #expect(error.message.contains("no sentinel knows the primary nobody"), "\(error.message)")
        }
        #expect(
            try SentinelAddress.parseList("127.0.0.1:26379, sentinel-b:26380") == [
                SentinelAddress(host: "127.0.0.1", port: 26379), SentinelAddress(host: "sentinel-b", port: 26380),
            ])
        #expect(throws: RedisError.self) { try SentinelAddress.parseList("nohost") }
        await unreachable.close()
        await conn.close()
        await cluster.stop()
    }
}
