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
    final class Cluster: Sendable {
        let primary: RedisServerProcess
        let replica: RedisServerProcess
        let sentinel: RedisServerProcess
        let directory: String

        init() async throws {
            directory =
                FileManager.default.temporaryDirectory.appendingPathComponent("sentinel-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
            for sub in ["p", "r", "s"] { try FileManager.default.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true) }
            let (p, r, s) = (try LoopbackPort.free(), try LoopbackPort.free(), try LoopbackPort.free())
            primary = RedisServerProcess(port: p, directory: directory + "/p", arguments: ["--save", "", "--appendonly", "no"])
            replica = RedisServerProcess(
                port: r, directory: directory + "/r", arguments: ["--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1", String(p)])
            let conf = directory + "/s/sentinel.conf"
            try """
            sentinel monitor exitbrain 127.0.0.1 \(p) 1
            sentinel down-after-milliseconds exitbrain 1000
            sentinel failover-timeout exitbrain 4000
            sentinel parallel-syncs exitbrain 1

            """.write(toFile: conf, atomically: true, encoding: .utf8)
            sentinel = RedisServerProcess(port: s, directory: directory + "/s", arguments: ["--sentinel"], configFile: conf)
            try await primary.start()
            try await replica.start()
            try await sentinel.start()
            // The sentinel must know the replica, and the replica be in sync, before a failover.
            let ask = RedisConnection(configuration: RedisConfiguration(port: s))
            let replicaConn = RedisConnection(configuration: RedisConfiguration(port: r))
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(20)
            while clock.now < deadline {
                let known = (try? await ask.send("SENTINEL", "replicas", "exitbrain").array?.isEmpty == false) ?? false
                let synced = (try? await replicaConn.send("INFO", "replication").string?.contains("master_link_status:up")) ?? false
                if known && synced {
                    await ask.close()
                    await replicaConn.close()
                    return
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            await ask.close()
            await replicaConn.close()
            throw TestProcess.Failure("the sentinel never saw the replica")
        }

        var configuration: RedisConfiguration {
            var c = RedisConfiguration(port: 1, connectTimeoutMilliseconds: 500, commandTimeoutMilliseconds: 1000, reconnectInitialMilliseconds: 50)
            c.sentinels = [SentinelAddress(host: "127.0.0.1", port: sentinel.port)]
            return c
        }

        func stop() async {
            await sentinel.stop()
            await replica.stop()
            await primary.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test func theConnectionAndTheSubscriberFollowAFailover() async throws {
        let cluster = try await Cluster()
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
        let sentinel = RedisConnection(configuration: RedisConfiguration(port: cluster.sentinel.port))
        // FAILOVER answers NOGOODSLAVE until the sentinel has fresh news of the replica.
        let clock = ContinuousClock()
        let asked = clock.now + .seconds(15)
        var started = false
        while !started, clock.now < asked {
            started = (try? await sentinel.send("SENTINEL", "FAILOVER", "exitbrain")) != nil
            if !started { try await Task.sleep(for: .milliseconds(250)) }
        }
        try #require(started, "the sentinel accepted the failover")
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
        await sentinel.close()
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
        let cluster = try await Cluster()
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
