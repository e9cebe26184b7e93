import ArgumentParser
import Foundation
import RedisClient

/// `exitbrain redis-check`: proves Redis is reachable and pub/sub works, with latencies.
struct RedisCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-check",
        abstract: "Connect to Redis, round-trip a value and a pub/sub message, print latencies."
    )

    @Option(name: .customLong("redis-url"), help: "Redis URL (env REDIS_URL, default \(RedisConfiguration.defaultURL)).")
    var redisURL: String?

    @Option(help: "How many PINGs to time.")
    var pings: Int = 100

    func run() async throws {
        let url = redisURL ?? ProcessInfo.processInfo.environment["REDIS_URL"] ?? RedisConfiguration.defaultURL
        let config: RedisConfiguration
        do {
            config = try RedisConfiguration(url: url)
        } catch {
            fail("bad REDIS_URL: \(error.message)", code: 78)
        }
        do {
            let report = try await check(config)
            print(report)
            print("ok")
        } catch {
            fail("redis check failed: \(error.message)", code: 1)
        }
    }

    /// Runs the checks and returns the report lines; throws the first failure.
    private func check(_ config: RedisConfiguration) async throws(RedisError) -> String {
        let conn = RedisConnection(configuration: config)
        try await conn.connect()
        let key = "exitbrain:redis-check:\(UUID().uuidString)"
        let value: [UInt8] = Array("round-trip".utf8) + [0, 255]
        let clock = ContinuousClock()
        let setStart = clock.now
        try await conn.send(RedisCommand(["SET", key, value, "PX", 10_000]))
        let back = try await conn.send(RedisCommand(["GET", key]))
        let setGet = clock.now - setStart
        try await conn.send("DEL", key)
        guard back.bytes == value else { throw RedisError(.unexpectedReply, "value did not round-trip: got \(back)") }

        var samples: [Double] = []
        for _ in 0..<max(1, pings) { samples.append(try await conn.ping().milliseconds) }
        samples.sort()

        let channel = "exitbrain:redis-check:\(UUID().uuidString)"
        let sub = RedisSubscriber(configuration: config, channels: [channel])
        sub.start()
        let subscribed = await sub.waitUntilSubscribed(timeout: .seconds(3))
        guard subscribed else {
            sub.close()
            throw RedisError(.timeout, "could not subscribe: \(sub.status.lastError?.message ?? "no answer")")
        }
        let pubStart = clock.now
        try await conn.send("PUBLISH", channel, "ping")
        var iterator = sub.messages.makeAsyncIterator()
        let message = await iterator.next()
        let pubsub = clock.now - pubStart
        sub.close()
        guard message?.payload == Array("ping".utf8) else { throw RedisError(.unexpectedReply, "pub/sub message did not arrive") }
        let p50 = samples[samples.count / 2]
        let p99 = samples[min(samples.count - 1, samples.count * 99 / 100)]
        return """
            redis:    \(config)
            set+get:  \(format(setGet.milliseconds)) ms
            ping:     p50 \(format(p50)) ms, p99 \(format(p99)) ms over \(samples.count)
            pub/sub:  \(format(pubsub.milliseconds)) ms round trip
            """
    }

    private func format(_ ms: Double) -> String { String(format: "%.3f", ms) }

    private func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("exitbrain: \(message)\n".utf8))
        Foundation.exit(code)
    }
}

extension Duration {
    /// The duration in milliseconds.
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
