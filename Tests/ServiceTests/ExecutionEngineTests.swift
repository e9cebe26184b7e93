import ExecutionService
import ExitBrainCoordination
import ExitBrainDomain
import ExitBrainService
import Foundation
import Logging
import PaperVenue
import RedisClient
import Support
import Synchronization
import Testing
import Venue

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

    /// An engine trading on a paper venue over this namespace (a restart is a new harness).
    func harness(faults: PaperFaults = PaperFaults()) async -> VenueHarness { await VenueHarness(book: book, config: config, faults: faults) }

    /// Every order record of the namespace.
    func records() async throws -> [String: OrderRecord] {
        var out: [String: OrderRecord] = [:]
        for row in try await book.orderRecords() { out[row.field] = try OrderWrite.decode(row.bytes, field: row.field) }
        return out
    }

    /// The paper venue's book of the namespace.
    func paperBook() async throws -> [String: OrderRecord] {
        var out: [String: OrderRecord] = [:]
        for row in try await book.paperOrders() { out[row.field] = try OrderWrite.decode(row.bytes, field: row.field) }
        return out
    }

    func cleanup() async { await TestRedis.cleanup(namespace: namespace.prefix) }
}

@Suite("Execution engine on real Redis", .enabled(if: TestRedis.enabled))
struct ExecutionEngineTests {
    @Test(arguments: [ExitOrdersMode.venue, .onTrigger], [PositionSide.long, .short])
    func ladderScenario(mode: ExitOrdersMode, side: PositionSide) async throws {
        let f = try await EngineFixture("exec-\(mode.rawValue.lowercased())-\(side.rawValue.lowercased())", env: ["EXIT_ORDERS": mode.rawValue])
        let h = await f.harness()
        let s = side.sign
        try await h.signal(side == .long ? .buy : .sell)
        let key = PositionKey(symbol: "BTCUSDT", side: side)
        guard let plan = try await f.plans.get(key) else {
            Issue.record("no plan stored after the entry fill")
            return
        }
        #expect(plan.legs.map(\.triggerPct) == [0.015, 0.025, 0.04, -0.025])
        #expect(plan.legs.map(\.sizePct) == [0.3, 0.3, 0.4, 1.0])
        #expect(plan.legs[0].triggerPrice == Rounding.price(50_000 * (1 + s * 0.015)))
        if mode == .venue {
            let resting = h.resting(key, in: try await f.paperBook())
            #expect(resting.count == 4, "SL and three TPs rest at the venue as soon as the plan exists")
            #expect(try await f.records()[plan.stopLossLeg!.clientOrderId]?.status == .new)
        }
        await h.tick(50_000 * (1 + s * 0.0152))
        let afterTP1 = try #require(try await f.plans.get(key))
        #expect(afterTP1.legs[0].status == .filled)
        #expect(afterTP1.stopLossLeg?.triggerPrice == Rounding.price(50_000 * (1 + s * 0.0008)), "breakeven: entry ± 2 × fee")
        #expect(try await f.positions.get(key)?.quantity == 0.007)
        await h.tick(50_000 * (1 + s * 0.0252))
        let afterTP2 = try #require(try await f.plans.get(key))
        #expect(afterTP2.legs[1].status == .filled)
        #expect(afterTP2.stopLossLeg?.triggerPrice == afterTP2.legs[0].triggerPrice, "SL at TP1's price")
        await h.tick(50_000 * (1 + s * 0.014))
        #expect(try await f.plans.get(key) == nil, "plan moved to history")
        #expect(try await f.positions.get(key) == nil, "position gone")
        let history = try await f.plans.history(count: 5)
        #expect(history.first?.closedReason == .stopLoss)
        let records = try await f.records()
        #expect(records.count == (mode == .venue ? 7 : 4), "entry + TP1 + TP2 + SL (+ the two moved stops)")
        #expect(records.values.allSatisfy { $0.status.isFinal })
        #expect(h.resting(key, in: try await f.paperBook()).isEmpty)
        await f.cleanup()
    }

    @Test(arguments: [ExitOrdersMode.venue, .onTrigger])
    func gapFillsTwoTakeProfitsInOneTick(mode: ExitOrdersMode) async throws {
        let f = try await EngineFixture("exec-gap-\(mode.rawValue.lowercased())", env: ["EXIT_ORDERS": mode.rawValue])
        let h = await f.harness()
        try await h.signal(.buy)
        await h.tick(51_300)
        let plan = try #require(try await f.plans.get(PositionKey(symbol: "BTCUSDT", side: .long)))
        #expect(plan.legs[0].status == .filled && plan.legs[1].status == .filled)
        #expect(plan.remainingQuantity == 0.004)
        #expect(try await f.positions.get(PositionKey(symbol: "BTCUSDT", side: .long))?.quantity == 0.004)
        await f.cleanup()
    }

    /// A take-profit exited at market leaves in the venue's lots (0.0001 on paper): 30 % of 0.0103
    /// is 0.00309, of which 0.0030 leaves; the plan records that, so what it holds stays what the
    /// venue holds and its fills never add up to more than the position.
    @Test func aMarketTakeProfitRecordsTheLotsThatLeft() async throws {
        let f = try await EngineFixture("exec-lots", env: ["EXIT_ORDERS": ExitOrdersMode.onTrigger.rawValue])
        let h = await f.harness()
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        try await h.signal(.buy, quantity: 0.0103)
        await h.tick(50_760)
        let plan = try #require(try await f.plans.get(key))
        #expect(plan.legs[0].status == .filled && plan.legs[0].quantity == 0.003, "\(plan.legs[0].quantity)")
        let held = try #require(try await f.positions.get(key)?.quantity)
        #expect(plan.remainingQuantity == held && plan.stopLossLeg?.quantity == held, "plan \(plan.remainingQuantity), venue \(held)")
        await h.tick(49_000)
        #expect(try await f.positions.get(key) == nil, "stopped out")
        let closed = try #require(try await f.plans.history(count: 1).first)
        let exited = closed.legs.filter { $0.status == .filled }.reduce(0) { $0 + $1.quantity }
        #expect(abs(exited - closed.initialQuantity) < 1e-9, "exits \(exited) of \(closed.initialQuantity)")
        await f.cleanup()
    }

    /// Each change of a position is announced once: an entry's fill with its plan, not again
    /// when the venue's own news of the position follows; a TP's fill once, by that news.
    @Test func aPositionChangeIsAnnouncedOnce() async throws {
        let f = try await EngineFixture("exec-position-once")
        let listener = RedisSubscriber(configuration: try await TestRedis.configuration(), channels: [f.namespace.channel(.positionUpdated)])
        listener.start()
        #expect(await listener.waitUntilSubscribed())
        let seen = Mutex<[Double]>([])
        let reader = Task {
            for await m in listener.messages {
                let envelope = try? JSONSerialization.jsonObject(with: Data(m.payload)) as? [String: Any]
                let quantity = (envelope?["data"] as? [String: Any])?["quantity"] as? Double
                seen.withLock { $0.append(quantity ?? -1) }
            }
        }
        let h = await f.harness()
        try await h.signal(.buy)
        await h.tick(50_760)
        await h.tick(50_770)
        try await Task.sleep(for: .milliseconds(300))
        listener.close()
        reader.cancel()
        #expect(seen.withLock { $0 } == [0.01, 0.007], "the entry, then TP1's fill")
        await f.cleanup()
    }

    @Test func shadowPublishesAndFillsNothing() async throws {
        for env in [["EXIT_EXECUTOR_MODE": "SHADOW"], ["EXIT_EXECUTOR_KILL_SWITCH": "true"], ["EXIT_BRAIN_V3_LIVE_ROLLOUT": "DISABLED"]] {
            let f = try await EngineFixture("exec-shadow", env: env)
            let h = await f.harness()
            try await h.signal(.buy)
            let listener = RedisSubscriber(configuration: try await TestRedis.configuration(), channels: [f.namespace.channel(.legTriggered)])
            listener.start()
            #expect(await listener.waitUntilSubscribed())
            await h.tick(50_760)
            await h.tick(50_770)
            var it = listener.messages.makeAsyncIterator()
            let m = await it.next()
            let text = String(decoding: m?.payload ?? [], as: UTF8.self)
            #expect(text.contains("\"shadow\":true"), "\(env)")
            let plan = try #require(try await f.plans.get(PositionKey(symbol: "BTCUSDT", side: .long)))
            #expect(plan.legs.allSatisfy { $0.status == .pending }, "\(env): nothing filled")
            #expect(plan.version == 1)
            #expect(try await f.records().count == 1, "only the entry order")
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

    @Test(arguments: [ExitOrdersMode.venue, .onTrigger])
    func restartAfterTP1FillsEachOrderOnce(mode: ExitOrdersMode) async throws {
        let f = try await EngineFixture("exec-restart-\(mode.rawValue.lowercased())", env: ["EXIT_ORDERS": mode.rawValue])
        let first = await f.harness()
        try await first.signal(.buy)
        await first.tick(50_760)
        // A new process: reconciles with the venue (its book is in Redis), then the price moves through TP2.
        let second = await f.harness()
        try await second.engine.reconcile()
        await second.settle()
        await second.tick(51_260)
        await second.tick(51_270)
        let plan = try #require(try await f.plans.get(PositionKey(symbol: "BTCUSDT", side: .long)))
        #expect(plan.legs[0].status == .filled && plan.legs[1].status == .filled)
        #expect(plan.remainingQuantity == 0.004)
        let records = try await f.records()
        #expect(Set(records.keys) == Set(try await f.paperBook().keys), "every record is one order at the venue, nothing sent twice")
        #expect(records.values.filter { $0.legIndex == 1 }.count == 1, "one TP2 order")
        await f.cleanup()
    }

    @Test func aRestingOrderOfAPositionGoneWhileDownIsCancelledOnRestart() async throws {
        let f = try await EngineFixture("exec-orphan")
        let first = await f.harness()
        try await first.signal(.buy)
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        #expect(first.resting(key, in: try await f.paperBook()).count == 4)
        // The service is down; the position is closed outside it (by hand at the venue).
        try await f.positions.remove(key)
        let second = await f.harness()
        let report = try await second.engine.reconcile()
        await second.settle()
        #expect(second.resting(key, in: try await f.paperBook()).isEmpty, "its stop and TPs are cancelled")
        #expect(try await f.plans.get(key) == nil, "its plan is closed")
        #expect(try await f.plans.history(count: 1).first?.closedReason == .positionClosed)
        #expect(report.orphansCancelled == 4)
        await f.cleanup()
    }

    @Test func intentsLeftByACrashAreResolvedToOneOrderPerLeg() async throws {
        let f = try await EngineFixture("exec-intents")
        let first = await f.harness()
        try await first.signal(.buy)
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        let plan = try #require(try await f.plans.get(key))
        // Crash between INTENT and sending: the TP1 order never left (its record and the venue's forgotten).
        let tp1 = plan.legs[0].clientOrderId
        var never = try #require(try await f.records()[tp1])
        _ = try await f.redis.send("HDEL", f.namespace.paperOrders, tp1)
        never.status = .intent
        never.venueAlgoId = nil
        // Crash between sending and the answer: TP2 is at the venue, its record still says INTENT.
        let tp2 = plan.legs[1].clientOrderId
        var sent = try #require(try await f.records()[tp2])
        sent.status = .intent
        sent.venueAlgoId = nil
        var writes = f.book.writes()
        writes.put(try .update(never))
        writes.put(try .update(sent))
        try await f.book.commit(writes)
        let second = await f.harness()
        try await second.engine.reconcile()
        await second.settle()
        let records = try await f.records()
        let venue = try await f.paperBook()
        #expect(records[tp1]?.status == .new && venue[tp1]?.status == .new, "the unsent intent was sent once")
        #expect(records[tp2]?.status == .new && records[tp2]?.venueAlgoId == venue[tp2]?.venueAlgoId, "the sent one was adopted, not sent again")
        #expect(venue.values.filter { $0.key == key && $0.status == .new }.count == 4, "one order per leg")
        await f.cleanup()
    }

    @Test func signalWithoutPriceIsRejected() async throws {
        let f = try await EngineFixture("exec-noprice")
        let engine = await f.harness().engine
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
            ("REDIS_URL", "http://x"), ("EXIT_EXECUTOR_KILL_SWITCH", "maybe"), ("LOG_FORMAT", "xml"), ("EXCHANGE", "kraken"),
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
