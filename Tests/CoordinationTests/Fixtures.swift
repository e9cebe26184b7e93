import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import RedisClient
import Support

/// A namespace of its own on the shared test server, with connections and stores.
struct CoordinationFixture {
    let namespace: Namespace
    let config: RedisConfiguration
    let redis: RedisConnection
    let bus: EventBus
    let plans: PlanStore
    let positions: PositionStore

    init(label: String, source: String = "test-service") async throws {
        namespace = try Namespace(TestRedis.namespace(label))
        config = try await TestRedis.configuration()
        redis = RedisConnection(configuration: config)
        bus = EventBus(redis: redis, namespace: namespace, source: source)
        plans = PlanStore(redis: redis, namespace: namespace, bus: bus)
        positions = PositionStore(redis: redis, namespace: namespace)
    }

    func cleanup() async { await TestRedis.cleanup(namespace: namespace.prefix) }

    static let now = Date(timeIntervalSince1970: 1_780_000_000)

    static func plan(
        symbol: String, side: PositionSide = .long, entry: Double = 50_000, quantity: Double = 0.01, id: String = UUID().uuidString.lowercased()
    ) throws -> ExitPlan {
        try Planner().makePlan(
            PlannerInput(
                symbol: symbol, side: side, entryPrice: entry, quantity: quantity, leverage: 10,
                context: PlanContext(), profile: .default, source: .execution, planId: id, now: now))
    }
}

/// Collects raw pub/sub messages on a pattern.
final class Listener: Sendable {
    let subscriber: RedisSubscriber
    init(config: RedisConfiguration, pattern: String) async {
        subscriber = RedisSubscriber(configuration: config, patterns: [pattern])
        subscriber.start()
        _ = await subscriber.waitUntilSubscribed()
    }

    /// Messages until `count` arrived or `timeout` passed since the last one.
    func collect(count: Int, idle: Duration = .milliseconds(500)) async -> [RedisPubSubMessage] {
        let box = MessageBox()
        let reader = Task {
            for await m in subscriber.messages {
                await box.add(m)
                if await box.count >= count { break }
            }
        }
        var last = -1
        while true {
            try? await Task.sleep(for: idle)
            let n = await box.count
            if n >= count || n == last { break }
            last = n
        }
        reader.cancel()
        subscriber.close()
        return await box.items
    }
}

actor MessageBox {
    var items: [RedisPubSubMessage] = []
    var count: Int { items.count }
    func add(_ m: RedisPubSubMessage) { items.append(m) }
}

let testLogger = Logger(label: "test")
