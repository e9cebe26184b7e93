import Foundation

/// `exitbrain redis-check`'s work: proves a server is reachable, binary-safe and delivers
/// pub/sub, with latencies.
public enum RedisSelfCheck {
    /// Connects, round-trips a binary value, times `pings` PINGs and one pub/sub message;
    /// returns the report lines, or throws the first failure.
    public static func run(_ config: RedisConfiguration, pings: Int = 100) async throws(RedisError) -> String {
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
            set+get:  \(Self.format(setGet.milliseconds)) ms
            ping:     p50 \(Self.format(p50)) ms, p99 \(Self.format(p99)) ms over \(samples.count)
            pub/sub:  \(Self.format(pubsub.milliseconds)) ms round trip
            """
    }

    private static func format(_ ms: Double) -> String { String(format: "%.3f", ms) }
}

extension Duration {
    /// The duration in milliseconds.
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
