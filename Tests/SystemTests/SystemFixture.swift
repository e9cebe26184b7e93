import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient
import Support
import Testing

/// Real processes on a Redis of their own: the services as the binary, this test as the market.
final class SystemFixture: @unchecked Sendable {
    let redis: RedisTestServer
    let namespace: Namespace
    let conn: RedisConnection
    var services: [ServiceUnderTest] = []
    private var sequence = 0

    init(_ label: String, persistent: Bool = false, password: String? = nil) async throws {
        redis = try await RedisTestServer(password: password, persistent: persistent)
        namespace = try Namespace("\(label)-\(getpid())")
        conn = RedisConnection(configuration: redis.configuration())
    }

    /// The environment the services get: paper, LIVE, fast heartbeats and passes.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = [
            "REDIS_URL": redis.url, "REDIS_NAMESPACE": namespace.prefix, "EXIT_EXECUTOR_MODE": "LIVE",
            "HEARTBEAT_INTERVAL_S": "0.5", "MONITOR_INTERVAL_S": "1", "LOG_LEVEL": "info", "LOG_FORMAT": "json", "LEASE_TTL_S": "3",
        ]
        for (k, v) in extra { env[k] = v }
        return env
    }

    @discardableResult
    func start(_ kind: ServiceUnderTest.Kind, _ extra: [String: String] = [:]) throws -> ServiceUnderTest {
        let service = try ServiceUnderTest(kind, environment: environment(extra))
        services.append(service)
        return service
    }

    func nextId() -> String {
        sequence += 1
        return "sys-\(getpid())-\(sequence)"
    }

    func signalJSON(_ symbol: String, _ side: String, quantity: Double = 0.01, price: Double = 100, leverage: Double = 10) -> String {
        #"{"id":"\#(nextId())","type":"trade.signal","source":"system-test","ts":"2026-11-25T18:38:24.123Z","data":{"symbol":"\#(symbol)","side":"\#(side)","quantity":\#(quantity),"leverage":\#(leverage),"price":\#(price)}}"#
    }

    func tickJSON(_ symbol: String, _ price: Double) -> String {
        #"{"id":"\#(nextId())","type":"market.tick","source":"system-test","ts":"2026-11-25T18:38:24.123Z","data":{"symbol":"\#(symbol)","price":\#(price)}}"#
    }

    func publish(_ type: EventType, _ json: String) async throws {
        try await conn.send("PUBLISH", namespace.channel(type), json)
    }

    func plan(_ key: String) async throws -> ExitPlan? {
        guard let bytes = try await conn.send("HGET", namespace.plans, key).bytes else { return nil }
        return try PlanJSON.decode(bytes)
    }

    func planCount() async throws -> Int { Int(try await conn.send("HLEN", namespace.plans).int ?? 0) }

    /// Polls `condition` every 50 ms; records an issue naming `what` when it does not hold in time.
    @discardableResult
    func eventually(_ what: String, within: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + within
        while clock.now < deadline {
            if (try? await condition()) == true { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("not within \(within): \(what)")
        return false
    }

    func stopAll() async {
        for s in services where s.isRunning { await s.stop() }
        await conn.close()
        await redis.stop()
    }
}

/// Collects every message of some channels from the moment it is subscribed.
final class ChannelRecorder: @unchecked Sendable {
    let subscriber: RedisSubscriber
    private let lock = NSLock()
    private var messages: [RedisPubSubMessage] = []
    private var task: Task<Void, Never>?

    init(_ config: RedisConfiguration, channels: [String]) async {
        subscriber = RedisSubscriber(configuration: config, channels: channels)
        subscriber.start()
        _ = await subscriber.waitUntilSubscribed()
        task = Task { [subscriber] in
            for await m in subscriber.messages { self.add(m) }
        }
    }

    private func add(_ m: RedisPubSubMessage) { lock.withLock { messages.append(m) } }

    var all: [RedisPubSubMessage] { lock.withLock { messages } }

    /// The payloads as text.
    var texts: [String] { all.map { String(decoding: $0.payload, as: UTF8.self) } }

    func close() {
        task?.cancel()
        subscriber.close()
    }
}

/// The first `"name":"value"` of a JSON text.
func jsonString(_ name: String, in text: String) -> String? {
    guard let r = text.range(of: "\"\(name)\":\"") else { return nil }
    let rest = text[r.upperBound...]
    return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
}
