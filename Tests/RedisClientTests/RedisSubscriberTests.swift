import Foundation
import RedisClient
import Support
import Testing

@Suite("Redis pub/sub subscriber", .enabled(if: TestRedis.enabled))
struct RedisSubscriberTests {
    /// Collects `count` messages or gives up after the timeout.
    static func collect(_ sub: RedisSubscriber, count: Int, timeout: Duration = .seconds(5)) async -> [RedisPubSubMessage] {
        await withTaskGroup(of: [RedisPubSubMessage].self) { group in
            group.addTask {
                var out: [RedisPubSubMessage] = []
                for await m in sub.messages {
                    out.append(m)
                    if out.count == count { break }
                }
                return out
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return []
            }
            var result: [RedisPubSubMessage] = []
            for await r in group {
                if !r.isEmpty || result.isEmpty { result = r }
                group.cancelAll()
                break
            }
            return result
        }
    }

    @Test func deliversInOrderOnChannelsAndPatterns() async throws {
        let ns = TestRedis.namespace("sub")
        let sub = RedisSubscriber(configuration: try await TestRedis.configuration(), channels: ["\(ns):a"], patterns: ["\(ns):p:*"])
        sub.start()
        #expect(await sub.waitUntilSubscribed())
        let pub = RedisConnection(configuration: try await TestRedis.configuration())
        var commands: [RedisCommand] = []
        for i in 0..<1000 {
            commands.append(RedisCommand("PUBLISH", i % 2 == 0 ? "\(ns):a" : "\(ns):p:x", "\(i)"))
        }
        _ = try await pub.pipeline(commands)
        let got = await Self.collect(sub, count: 1000)
        #expect(got.count == 1000)
        #expect(got.map { String(decoding: $0.payload, as: UTF8.self) } == (0..<1000).map(String.init))
        #expect(got[1].pattern == "\(ns):p:*")
        #expect(got[1].channel == "\(ns):p:x")
        #expect(got[0].pattern == nil)
        sub.close()
    }

    @Test func binaryPayloadAndRuntimeSubscribe() async throws {
        let ns = TestRedis.namespace("sub2")
        let sub = RedisSubscriber(configuration: try await TestRedis.configuration(), channels: ["\(ns):first"])
        sub.start()
        #expect(await sub.waitUntilSubscribed())
        sub.subscribe(channels: ["\(ns):later"])
        #expect(await sub.waitUntilSubscribed())
        let pub = RedisConnection(configuration: try await TestRedis.configuration())
        let payload: [UInt8] = [0, 255, 10, 13, 0]
        #expect(try await pub.send(RedisCommand(["PUBLISH", "\(ns):later", payload])) == .integer(1))
        let got = await Self.collect(sub, count: 1)
        #expect(got.first?.payload == payload)
        sub.close()
    }

    @Test func resubscribesAfterClientKillAndServerRestart() async throws {
        let server = try await RedisTestServer()
        let sub = RedisSubscriber(configuration: server.configuration(), channels: ["c"], patterns: ["p.*"])
        sub.start()
        #expect(await sub.waitUntilSubscribed())
        #expect(sub.status.generation == 1)
        let admin = RedisConnection(configuration: server.configuration())
        try await admin.send("CLIENT", "KILL", "TYPE", "pubsub")
        try await Task.sleep(for: .milliseconds(50))
        #expect(await sub.waitUntilSubscribed())
        #expect(sub.status.generation == 2)
        try await server.restart()
        try await Task.sleep(for: .milliseconds(50))
        #expect(await sub.waitUntilSubscribed(timeout: .seconds(5)))
        #expect(sub.status.generation == 3)
        // Both subscriptions are back: one message on each arrives.
        var receivers: Int64 = 0
        for _ in 0..<50 where receivers == 0 {
            receivers = try await admin.send("PUBLISH", "c", "after").int ?? 0
            if receivers == 0 { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(try await admin.send("PUBLISH", "p.x", "pattern").int == 1)
        let got = await Self.collect(sub, count: 2)
        #expect(got.map { String(decoding: $0.payload, as: UTF8.self) } == ["after", "pattern"])
        sub.close()
    }

    @Test func closeEndsTheStream() async throws {
        let sub = RedisSubscriber(configuration: try await TestRedis.configuration(), channels: [TestRedis.namespace("close")])
        sub.start()
        #expect(await sub.waitUntilSubscribed())
        sub.close()
        var count = 0
        for await _ in sub.messages { count += 1 }
        #expect(count == 0)
        #expect(!sub.status.subscribed)
    }
}
