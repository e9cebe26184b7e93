import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import MonitoringService
import Support
import Testing
import Venue

/// The reconciler's decisions against a book kept in memory: no Redis, no network.
@Suite("Reconciler decisions on an in-memory book")
struct ReconcilerDecisionTests {
    func make(grace: Duration = .milliseconds(100), feeRate: Double = 0.0004) -> (InMemoryBook, Reconciler, AlertSink) {
        let book = InMemoryBook(source: "monitoring-service")
        let alerts = AlertSink(bus: book, settings: AlertSettings(dedupe: .seconds(60)), logger: Logger(label: "t"))
        return (book, Reconciler(book: book, alerts: alerts, profile: .default, grace: grace, feeRate: feeRate, logger: Logger(label: "t")), alerts)
    }

    func position(_ symbol: String, _ side: PositionSide, quantity: Double = 2, entry: Double = 100) -> PositionSnapshot {
        PositionSnapshot(
            symbol: symbol, side: side, quantity: quantity, entryPrice: entry, markPrice: entry, leverage: 10, unrealizedPnl: 0,
            openedAt: Date(), updatedAt: Date())
    }

    @Test func anOrphanGetsOneRetroactivePlanAndAnAlert() async throws {
        let (book, reconciler, alerts) = make()
        try book.seed(position("AUSDT", .long))
        try book.seed(position("BUSDT", .short))
        let first = try await reconciler.pass()
        #expect(first.created == 2)
        let short = try #require(book.storedPlan(PositionKey(symbol: "BUSDT", side: .short)))
        #expect(short.source == .retroactive)
        #expect(short.stopLossLeg.map { $0.triggerPrice > 100 } == true, "SHORT stop above entry")
        #expect(alerts.sent.filter { $0.code == "PLAN_CREATED_RETROACTIVELY" }.count == 2)
        #expect(book.events(.planCreated).allSatisfy { $0.data["retroactive"] as? Bool == true })
        #expect(try await reconciler.pass().created == 0)
    }

    @Test func aPlanWithoutItsPositionIsClosedAfterOneGrace() async throws {
        let (book, reconciler, _) = make(grace: .milliseconds(150))
        let plan = try Planner().makePlan(
            PlannerInput(
                symbol: "CUSDT", side: .long, entryPrice: 100, quantity: 1, leverage: 10,
                planId: RandomUUID.string(), now: Date()))
        try book.seed(plan)
        #expect(try await reconciler.pass().closed == 0, "a position may be on its way")
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await reconciler.pass().closed == 1)
        #expect(book.storedPlan(plan.key) == nil)
        #expect(book.history.last?.closedReason == .positionClosed)
    }

    @Test func aPlanWithoutAStopIsRepairedWhenSeenTwice() async throws {
        let (book, reconciler, alerts) = make()
        let snapshot = position("DUSDT", .long, quantity: 1)
        try book.seed(snapshot)
        _ = try await reconciler.pass()
        var plan = try #require(book.storedPlan(snapshot.key))
        plan.legs.removeAll { $0.kind == .stopLoss }
        plan.version += 1
        try book.seed(plan)
        await reconciler.noteLostEvents()
        #expect(try await reconciler.pass().repaired == 0, "seen once: maybe a write in flight")
        #expect(try await reconciler.pass().repaired == 1)
        #expect(book.storedPlan(snapshot.key)?.stopLossLeg != nil)
        #expect(alerts.sent.contains { $0.code == "PLAN_WITHOUT_SL" })
    }

    @Test func withAChangeFeedASteadyPassIsOneRoundTrip() async throws {
        let (book, reconciler, _) = make()
        await reconciler.attachChangeFeed(true)
        try book.seed(position("EUSDT", .long))
        #expect(try await reconciler.pass().created == 1)
        let second = try await reconciler.pass()
        #expect(second.roundTrips == 2, "field names, then the plan it created, which it had not read: \(second)")
        let steady = try await reconciler.pass()
        #expect(steady.roundTrips == 1, "field names only: \(steady)")
        try book.seed(position("FUSDT", .long))
        let next = try await reconciler.pass()
        #expect(next.created == 1, "a new position is seen from the names")
    }

    @Test func aPositionWithoutItsRestingStopForTwoIntervalsIsUnprotected() async throws {
        let book = InMemoryBook(source: "monitoring-service")
        let alerts = AlertSink(bus: book, settings: AlertSettings(dedupe: .seconds(60)), logger: Logger(label: "t"))
        let reconciler = Reconciler(
            book: book, alerts: alerts, profile: .default, grace: .seconds(5), feeRate: 0.0004, stopsRestAtVenue: { $0 != "SHADOWUSDT" },
            protectionGrace: .milliseconds(150), logger: Logger(label: "t"))
        try book.seed(position("EUSDT", .long, quantity: 1))
        try book.seed(position("SHADOWUSDT", .long, quantity: 1))
        #expect(try await reconciler.pass().unprotected == 0, "not yet two intervals")
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await reconciler.pass().unprotected == 1, "the shadow symbol's stops do not rest at the venue")
        let alert = try #require(alerts.sent.first { $0.code == "POSITION_UNPROTECTED" })
        #expect(alert.severity == .critical && alert.key == "EUSDT:LONG")
        // Its stop rests at the venue: protected again, and no second alert for the same episode.
        let plan = try #require(book.storedPlan(PositionKey(symbol: "EUSDT", side: .long)))
        let sl = try #require(plan.stopLossLeg)
        var record = OrderRecord(
            intent: OrderRequest(
                clientOrderId: sl.clientOrderId, symbol: "EUSDT", side: .sell, positionSide: .long, purpose: .exit, type: .stopMarket,
                quantity: 1, triggerPrice: Decimal(sl.triggerPrice)),
            key: plan.key, planId: plan.planId, legIndex: sl.index, at: Date())
        var writes = book.writes()
        writes.put(try .intent(record))
        try await book.commit(writes)
        #expect(try await reconciler.pass().unprotected == 1, "an intent is not a resting stop")
        record.status = .new
        writes = book.writes()
        writes.put(try .update(record))
        try await book.commit(writes)
        #expect(try await reconciler.pass().unprotected == 0)
        #expect(alerts.sent.filter { $0.code == "POSITION_UNPROTECTED" }.count == 1)
    }
}
