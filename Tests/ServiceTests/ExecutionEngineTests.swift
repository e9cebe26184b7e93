import ExecutionService
import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import RedisClient
import Support
import Testing

/// An engine on its own namespace of the shared test server.
struct EngineFixture {
    let namespace: Namespace
    let redis: RedisConnection
    let bus: EventBus
    let plans: PlanStore
    let positions: PositionStore
    let book: RedisBook
    let config: ExecutionConfiguration

    init(_ label: String, env: [String: String] = [:]) async throws {
        let ns = TestRedis.namespace(label)
        var e = ["EXIT_EXECUTOR_MODE": "LIVE", "REDIS_NAMESPACE": ns, "REDIS_URL": try await TestRedis.url()]
        e.merge(env) { $1 }
        config = try ExecutionConfiguration(environment: e)
        namespace = config.common.namespace
        redis = RedisConnection(configuration: try await TestRedis.configuration())
        bus = EventBus(redis: redis, namespace: namespace, source: "execution-service")
        plans = PlanStore(redis: redis, namespace: namespace, bus: bus)
        positions = PositionStore(redis: redis, namespace: namespace)
        book = RedisBook(plans: plans, positions: positions, bus: bus)
    }

    func engine() -> ExecutionEngine {
        ExecutionEngine(config: config, book: book, logger: Logger(label: "test.engine"))
    }

    func signal(_ engine: ExecutionEngine, _ symbol: String, _ side: OrderSide, quantity: Double = 0.01, price: Double = 50_000) async throws {
        let meta = EnvelopeMeta(id: UUID().uuidString, type: "trade.signal", source: "test", ts: "")
        try await engine.handleSignal(TradeSignal(symbol: symbol, side: side, quantity: quantity, leverage: 10, price: price), meta: meta)
    }

    func cleanup() async { await TestRedis.cleanup(namespace: namespace.prefix) }
}

@Suite("Execution engine on real Redis", .enabled(if: TestRedis.enabled))
struct ExecutionEngineTests {
    @Test func aPlanChangedElsewhereIsReloadedBeforeAnyExitIsPlaced() async throws {
        let f = try await EngineFixture("exec-stale")
        let engine = f.engine()
        try await f.signal(engine, "BTCUSDT", .buy)
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        // Another writer (a monitor's repair) moves TP1 further out; this engine still holds the old plan.
        var changed = try #require(try await f.plans.get(key))
        changed.legs[0].triggerPrice = 51_000
        changed.version += 1
        #expect(try await f.plans.update(changed, expectedVersion: changed.version - 1, event: nil) == .written)
        await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_760))  // the old TP1, not the new one
        #expect(try await f.redis.send("HLEN", f.namespace.paperOrders) == .integer(1), "no exit order for the stale plan")
        #expect(try await f.plans.get(key)?.legs[0].status == .pending)
        await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_770))
        #expect(try await f.redis.send("HLEN", f.namespace.paperOrders) == .integer(1), "the reloaded plan's TP1 is at 51 000")
        await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 51_010))
        let after = try #require(try await f.plans.get(key))
        #expect(after.legs[0].status == .filled && after.version == changed.version + 1)
        #expect(try await f.redis.send("HLEN", f.namespace.paperOrders) == .integer(2))
        await f.cleanup()
    }

    @Test(arguments: [PositionSide.long, .short])
    func ladderScenario(side: PositionSide) async throws {
        let f = try await EngineFixture("exec-\(side.rawValue.lowercased())")
        let engine = f.engine()
        let s = side.sign
        try await f.signal(engine, "BTCUSDT", side == .long ? .buy : .sell)
        let key = PositionKey(symbol: "BTCUSDT", side: side)
        guard let plan = try await f.plans.get(key) else {
            Issue.record("no plan stored after the entry fill")
            return
        }
        #expect(plan.legs.map(\.triggerPct) == [0.015, 0.025, 0.04, -0.025])
        #expect(plan.legs.map(\.sizePct) == [0.3, 0.3, 0.4, 1.0])
        #expect(plan.legs[0].triggerPrice == Rounding.price(50_000 * (1 + s * 0.015)))
        await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_000 * (1 + s * 0.0152)))
        let afterTP1 = try #require(try await f.plans.get(key))
        #expect(afterTP1.legs[0].status == .filled)
        #expect(afterTP1.stopLossLeg?.triggerPrice == Rounding.price(50_000 * (1 + s * 0.0008)), "breakeven: entry ± 2 × fee")
        #expect(try await f.positions.get(key)?.quantity == 0.007)
        await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_000 * (1 + s * 0.0252)))
        let afterTP2 = try #require(try await f.plans.get(key))
        #expect(afterTP2.legs[1].status == .filled)
        #expect(afterTP2.stopLossLeg?.triggerPrice == afterTP2.legs[0].triggerPrice, "SL at TP1's price")
        await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_000 * (1 + s * 0.014)))
        #expect(try await f.plans.get(key) == nil, "plan moved to history")
        #expect(try await f.positions.get(key) == nil, "position gone")
        let history = try await f.plans.history(count: 5)
        #expect(history.first?.closedReason == .stopLoss)
        #expect(try await f.redis.send("HLEN", f.namespace.paperOrders) == .integer(4), "entry + TP1 + TP2 + SL")
        await f.cleanup()
    }

    @Test func gapFillsTwoTakeProfitsInOneTick() async throws {
        let f = try await EngineFixture("exec-gap")
        let engine = f.engine()
        try await f.signal(engine, "BTCUSDT", .buy)
        await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 51_300))
        let plan = try #require(try await f.plans.get(PositionKey(symbol: "BTCUSDT", side: .long)))
        #expect(plan.legs[0].status == .filled && plan.legs[1].status == .filled)
        #expect(plan.remainingQuantity == 0.004)
        #expect(plan.version == 2, "one step, one version")
        await f.cleanup()
    }

    @Test func shadowPublishesAndFillsNothing() async throws {
        for env in [["EXIT_EXECUTOR_MODE": "SHADOW"], ["EXIT_EXECUTOR_KILL_SWITCH": "true"], ["EXIT_BRAIN_V3_LIVE_ROLLOUT": "DISABLED"]] {
            let f = try await EngineFixture("exec-shadow", env: env)
            let engine = f.engine()
            try await f.signal(engine, "BTCUSDT", .buy)
            let listener = RedisSubscriber(configuration: try await TestRedis.configuration(), channels: [f.namespace.channel(.legTriggered)])
            listener.start()
            #expect(await listener.waitUntilSubscribed())
            await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_760))
            await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_770))
            var it = listener.messages.makeAsyncIterator()
            let m = await it.next()
            let text = String(decoding: m?.payload ?? [], as: UTF8.self)
            #expect(text.contains("\"shadow\":true"), "\(env)")
            let plan = try #require(try await f.plans.get(PositionKey(symbol: "BTCUSDT", side: .long)))
            #expect(plan.legs.allSatisfy { $0.status == .pending }, "\(env): nothing filled")
            #expect(plan.version == 1)
            #expect(try await f.redis.send("HLEN", f.namespace.paperOrders) == .integer(1), "only the entry order")
            listener.close()
            await f.cleanup()
        }
    }

    @Test func rolloutShareIsStablePerSymbol() throws {
        let half = try ExecutionConfiguration(environment: ["EXIT_EXECUTOR_MODE": "LIVE", "EXIT_LIVE_ROLLOUT_PCT": "50"])
        let symbols = (0..<400).map { "S\($0)USDT" }
        let live = symbols.filter { half.mode(for: $0) == .live }.count
        #expect((140...260).contains(live), "about half of 400 symbols go live, got \(live)")
        #expect(symbols.allSatisfy { half.mode(for: $0) == half.mode(for: $0) })
        let none = try ExecutionConfiguration(environment: ["EXIT_EXECUTOR_MODE": "LIVE", "EXIT_LIVE_ROLLOUT_PCT": "0"])
        #expect(symbols.allSatisfy { none.mode(for: $0) == .shadow })
        let legacy = try ExecutionConfiguration(environment: ["EXIT_EXECUTOR_MODE": "LIVE", "EXIT_MODE": "LEGACY"])
        #expect(legacy.mode(for: "BTCUSDT") == .shadow)
    }

    @Test func restartAfterTP1FillsEachOrderOnce() async throws {
        let f = try await EngineFixture("exec-restart")
        let first = f.engine()
        try await f.signal(first, "BTCUSDT", .buy)
        await first.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_760))
        // A new process: loads from Redis, then the price moves through TP2.
        let second = f.engine()
        try await second.resync()
        await second.handleTick(MarketTick(symbol: "BTCUSDT", price: 51_260))
        await second.handleTick(MarketTick(symbol: "BTCUSDT", price: 51_270))
        let plan = try #require(try await f.plans.get(PositionKey(symbol: "BTCUSDT", side: .long)))
        #expect(plan.legs[0].status == .filled && plan.legs[1].status == .filled)
        #expect(plan.remainingQuantity == 0.004)
        #expect(try await f.redis.send("HLEN", f.namespace.paperOrders) == .integer(3), "entry, TP1, TP2: one order each")
        // The old process still holding version 2 cannot write over it.
        await first.handleTick(MarketTick(symbol: "BTCUSDT", price: 51_300))
        #expect(try await f.plans.get(PositionKey(symbol: "BTCUSDT", side: .long))?.version == plan.version)
        await f.cleanup()
    }

    @Test func signalWithoutPriceIsRejected() async throws {
        let f = try await EngineFixture("exec-noprice")
        let engine = f.engine()
        let meta = EnvelopeMeta(id: "1", type: "trade.signal", source: "t", ts: "")
        let rejection = await engine.handle(.signal(TradeSignal(symbol: "XYZUSDT", side: .buy, quantity: 1, leverage: 1), meta))
        #expect(rejection?.reason == .noPrice)
        #expect(try await f.plans.count() == 0)
        await engine.handleTick(MarketTick(symbol: "XYZUSDT", price: 2))
        #expect(
            await engine.handle(
                .signal(TradeSignal(symbol: "XYZUSDT", side: .buy, quantity: 1, leverage: 1), EnvelopeMeta(id: "2", type: "", source: "", ts: "")))
                == nil)
        #expect(try await f.plans.count() == 1)
        await f.cleanup()
    }

    @Test func badEnvironmentValuesAreRefused() {
        for (k, v) in [
            ("EXIT_EXECUTOR_MODE", "FAST"), ("EXIT_LIVE_ROLLOUT_PCT", "101"), ("EXIT_BRAIN_PROFILE", "X"), ("HTTP_PORT", "-1"),
            ("REDIS_URL", "http://x"), ("EXIT_EXECUTOR_KILL_SWITCH", "maybe"), ("LOG_FORMAT", "xml"), ("EXCHANGE", "binance"),
        ] {
            do {
                _ = try ExecutionConfiguration(environment: [k: v])
                Issue.record("\(k)=\(v) accepted")
            } catch {
                #expect(error.variable == k)
                #expect(error.description.contains("allowed"))
            }
        }
    }
}
