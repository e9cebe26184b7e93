import ExecutionService
import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import Support
import Testing

/// The execution engine's decisions against a book kept in memory: no Redis, no network.
@Suite("Engine decisions on an in-memory book")
struct EngineDecisionTests {
    func make(_ env: [String: String] = [:]) throws -> (InMemoryBook, ExecutionEngine) {
        var e = ["EXIT_EXECUTOR_MODE": "LIVE"]
        e.merge(env) { $1 }
        let book = InMemoryBook(source: "execution-service")
        return (book, ExecutionEngine(config: try ExecutionConfiguration(environment: e), book: book, logger: Logger(label: "test.engine")))
    }

    func signal(_ engine: ExecutionEngine, _ side: OrderSide, id: String = RandomUUID.string(), price: Double = 50_000) async throws {
        let meta = EnvelopeMeta(id: id, type: "trade.signal", source: "test", ts: "")
        try await engine.handleSignal(TradeSignal(symbol: "BTCUSDT", side: side, quantity: 0.01, leverage: 10, price: price), meta: meta)
    }

    @Test(arguments: [PositionSide.long, .short])
    func ladderFromEntryToStop(side: PositionSide) async throws {
        let (book, engine) = try make()
        let s = side.sign
        let key = PositionKey(symbol: "BTCUSDT", side: side)
        try await signal(engine, side == .long ? .buy : .sell)
        let plan = try #require(book.storedPlan(key))
        #expect(plan.legs.map(\.triggerPct) == [0.015, 0.025, 0.04, -0.025])
        #expect(book.storedPosition(key)?.quantity == 0.01)
        #expect(book.events(.planCreated).count == 1)
        #expect(book.events(.orderFilled).first?.data["purpose"] as? String == "ENTRY")

        await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_000 * (1 + s * 0.0152)))
        let afterTP1 = try #require(book.storedPlan(key))
        #expect(afterTP1.legs[0].status == .filled)
        #expect(afterTP1.stopLossLeg?.triggerPrice == Rounding.price(50_000 * (1 + s * 0.0008)), "breakeven: entry ± 2 × fee")
        #expect(book.storedPosition(key)?.quantity == 0.007)
        #expect(book.events(.legTriggered).map { $0.data["shadow"] as? Bool } == [false])

        await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_000 * (1 + s * 0.0252)))
        #expect(book.storedPlan(key)?.stopLossLeg?.triggerPrice == afterTP1.legs[0].triggerPrice, "SL at TP1's price")

        await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_000 * (1 + s * 0.014)))
        #expect(book.storedPlan(key) == nil, "plan moved to history")
        #expect(book.storedPosition(key) == nil, "position gone")
        #expect(book.history.last?.closedReason == .stopLoss)
        #expect(book.orders.count == 4, "entry + TP1 + TP2 + SL")
        #expect(book.events(.planClosed).count == 1)
    }

    @Test func aRedeliveredSignalIsOneOrder() async throws {
        let (book, engine) = try make()
        try await signal(engine, .buy, id: "signal-1")
        try await signal(engine, .buy, id: "signal-1")
        #expect(book.orders.count == 1)
        #expect(book.storedPosition(PositionKey(symbol: "BTCUSDT", side: .long))?.quantity == 0.01)
        #expect(book.events(.orderFilled).count == 1)
    }

    @Test func aPlanChangedElsewhereGetsNoOrderAtItsOldPrice() async throws {
        let (book, engine) = try make()
        try await signal(engine, .buy)
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        var changed = try #require(book.storedPlan(key))
        changed.legs[0].triggerPrice = 51_000
        changed.version += 1
        try book.seed(changed)
        await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_760))
        #expect(book.orders.count == 1, "the stale TP1 is not placed")
        #expect(book.storedPlan(key)?.version == changed.version)
        await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 51_010))
        #expect(book.storedPlan(key)?.legs[0].status == .filled, "the reloaded plan's TP1 fills at its new price")
        #expect(book.orders.count == 2)
    }

    @Test func shadowDecidesAndPlacesNothing() async throws {
        let (book, engine) = try make(["EXIT_EXECUTOR_MODE": "SHADOW"])
        try await signal(engine, .buy)
        await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_760))
        await engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_770))
        #expect(book.events(.legTriggered).map { $0.data["shadow"] as? Bool } == [true], "one decision, published once")
        #expect(book.storedPlan(PositionKey(symbol: "BTCUSDT", side: .long))?.version == 1)
        #expect(book.orders.count == 1, "only the entry")
    }

    @Test func resyncPicksUpPlansOthersStoredAndDropsClosedOnes() async throws {
        let (book, engine) = try make()
        let now = Date()
        let plan = try Planner().makePlan(
            PlannerInput(
                symbol: "ETHUSDT", side: .short, entryPrice: 3_000, quantity: 1, leverage: 5,
                source: .retroactive, planId: RandomUUID.string(), now: now))
        try book.seed(plan)
        try await engine.resync()
        #expect(await engine.cachedPlan(plan.key)?.planId == plan.planId)
        _ = try await book.close(plan, expectedVersion: plan.version, realizedPnl: 0, position: .delete, orders: [], now: now)
        try await engine.resync()
        #expect(await engine.cachedPlan(plan.key) == nil)
        // A steady resync with nothing new reads only the field names: one round trip. A plan
        // the engine created itself is not read back either.
        try await engine.resync()
        try await signal(engine, .buy)
        let before = book.roundTrips
        try await engine.resync()
        #expect(book.roundTrips - before == 1, "names only, not the engine's own new plan")
    }
}
