import ExecutionService
import ExitBrainCoordination
import ExitBrainDomain
import ExitBrainService
import Foundation
import Logging
import PaperVenue
import Support
import Synchronization
import Testing
import Venue

/// The execution engine's decisions, trading on a paper venue, against a book kept in memory:
/// no Redis, no network.
@Suite("Engine decisions on an in-memory book")
struct EngineDecisionTests {
    func make(_ env: [String: String] = [:], faults: PaperFaults = PaperFaults()) async throws -> (InMemoryBook, VenueHarness) {
        var e = ["EXIT_EXECUTOR_MODE": "LIVE"]
        e.merge(env) { $1 }
        let book = InMemoryBook(source: "execution-service")
        return (book, await VenueHarness(book: book, config: try ExecutionConfiguration(environment: e), faults: faults))
    }

    static let modes = [ExitOrdersMode.venue, .onTrigger]

    @Test(arguments: modes, [PositionSide.long, .short])
    func ladderFromEntryToStop(mode: ExitOrdersMode, side: PositionSide) async throws {
        let (book, h) = try await make(["EXIT_ORDERS": mode.rawValue])
        let s = side.sign
        let key = PositionKey(symbol: "BTCUSDT", side: side)
        try await h.signal(side == .long ? .buy : .sell)
        let plan = try #require(book.storedPlan(key))
        #expect(plan.legs.map(\.triggerPct) == [0.015, 0.025, 0.04, -0.025])
        #expect(book.storedPosition(key)?.quantity == 0.01)
        #expect(book.events(.planCreated).count == 1)
        #expect(book.events(.orderFilled).first?.data["purpose"] as? String == "ENTRY")
        if mode == .venue {
            let resting = h.resting(key, in: book.paperBook)
            #expect(
                resting.map(\.type).sorted { $0.rawValue < $1.rawValue } == [.stopMarket, .takeProfitMarket, .takeProfitMarket, .takeProfitMarket])
            let tps = resting.filter { $0.type == .takeProfitMarket }.map(\.quantity)
            #expect(tps.reduce(0, +) == Decimal(string: "0.01"), "the TP legs sum exactly to the position: \(tps)")
            #expect(resting.first { $0.type == .stopMarket }?.quantity == Decimal(string: "0.01"))
            #expect(book.events(.orderPlaced).count == 4)
        }

        await h.tick(50_000 * (1 + s * 0.0152))
        let afterTP1 = try #require(book.storedPlan(key))
        #expect(afterTP1.legs[0].status == .filled)
        #expect(afterTP1.stopLossLeg?.triggerPrice == Rounding.price(50_000 * (1 + s * 0.0008)), "breakeven: entry ± 2 × fee")
        #expect(book.storedPosition(key)?.quantity == 0.007)
        #expect(afterTP1.remainingQuantity == 0.007)
        if mode == .venue {
            let stops = h.resting(key, in: book.paperBook).filter { $0.type == .stopMarket }
            #expect(stops.count == 1, "the old stop is cancelled once the new one rests")
            #expect(stops.first?.triggerPrice == Decimal(string: "50040") || stops.first?.triggerPrice == Decimal(string: "49960"))
            #expect(stops.first?.quantity == Decimal(string: "0.007"))
            #expect(afterTP1.legs[0].orderStatus == .filled && afterTP1.legs[0].filledQuantity == 0.003)
        } else {
            #expect(book.events(.legTriggered).map { $0.data["shadow"] as? Bool } == [false])
        }

        await h.tick(50_000 * (1 + s * 0.0252))
        #expect(book.storedPlan(key)?.stopLossLeg?.triggerPrice == afterTP1.legs[0].triggerPrice, "SL at TP1's price")

        await h.tick(50_000 * (1 + s * 0.014))
        #expect(book.storedPlan(key) == nil, "plan moved to history")
        #expect(book.storedPosition(key) == nil, "position gone")
        #expect(book.history.last?.closedReason == .stopLoss)
        #expect(book.events(.planClosed).count == 1)
        #expect(book.events(.legTriggered).map { $0.data["kind"] as? String } == ["TP", "TP", "SL"], "each leg's trigger, as the venue filled it")
        #expect(book.events(.legTriggered).allSatisfy { $0.data["shadow"] as? Bool == false })
        #expect(h.resting(key, in: book.paperBook).isEmpty, "nothing rests for a closed position")
        let records = book.orders
        #expect(records.values.allSatisfy { $0.status.isFinal }, "\(records.values.map { "\($0.clientOrderId) \($0.status)" })")
        #expect(records.count == (mode == .venue ? 7 : 4), "entry + TP1 + TP2 + SL (+ two moved stops at the venue)")
        #expect(Set(records.keys) == Set(book.paperBook.keys), "every record is one order at the venue")
    }

    @Test(arguments: modes)
    func aGapThroughTwoTakeProfitsFillsBoth(mode: ExitOrdersMode) async throws {
        let (book, h) = try await make(["EXIT_ORDERS": mode.rawValue])
        try await h.signal(.buy)
        await h.tick(51_300)
        let plan = try #require(book.storedPlan(PositionKey(symbol: "BTCUSDT", side: .long)))
        #expect(plan.legs[0].status == .filled && plan.legs[1].status == .filled)
        #expect(plan.remainingQuantity == 0.004)
        #expect(plan.stopLossLeg?.triggerPrice == plan.legs[0].triggerPrice)
        #expect(book.storedPosition(PositionKey(symbol: "BTCUSDT", side: .long))?.quantity == 0.004)
        #expect(plan.legs[0].orderStatus == .filled && plan.legs[1].orderStatus == .filled, "each leg shows its order's fill")
    }

    @Test func aPartialFillOfATakeProfitKeepsThePlanExact() async throws {
        var faults = PaperFaults()
        faults.partialFills = 1
        let (book, h) = try await make(faults: faults)
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        try await h.signal(.buy)
        await h.tick(50_760)
        let half = try #require(book.storedPlan(key))
        #expect(half.legs[0].status == .pending && half.legs[0].filledQuantity == 0.0015 && half.legs[0].orderStatus == .partiallyFilled)
        #expect(half.remainingQuantity == 0.0085)
        #expect(book.storedPosition(key)?.quantity == 0.0085)
        #expect(half.stopLossLeg?.triggerPrice == 48_750, "a partial TP moves no stop")
        await h.tick(50_770)
        let full = try #require(book.storedPlan(key))
        #expect(full.legs[0].status == .filled && full.legs[0].quantity == 0.003 && full.legs[0].filledQuantity == 0.003)
        #expect(full.remainingQuantity == 0.007)
        #expect(full.stopLossLeg?.triggerPrice == 50_040 && full.stopLossLeg?.quantity == 0.007)
        #expect(h.resting(key, in: book.paperBook).first { $0.type == .stopMarket }?.quantity == Decimal(string: "0.007"))
        let fills = book.events(.orderFilled).filter { $0.data["leg_index"] as? Int == 0 }.compactMap { $0.data["quantity"] as? Double }
        #expect(fills == [0.0015, 0.0015], "two fills of the TP leg, each its increment")
    }

    @Test func anUnansweredOrderIsQueriedAndAdoptedNeverSentAgain() async throws {
        var faults = PaperFaults()
        faults.silentAccepts = 2  // the entry, then the SL
        let (book, h) = try await make(faults: faults)
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        try await h.signal(.buy)
        let entry = try #require(book.orders.values.first { $0.purpose == .entry })
        #expect(entry.status == .unknown, "sent, no answer")
        #expect(book.storedPlan(key) == nil, "nothing is planned on a fill not known yet")
        for _ in 0..<40 where book.orders.values.contains(where: { $0.status == .unknown || $0.status == .intent }) || book.orders.count < 5 {
            try await Task.sleep(for: .milliseconds(100))
            await h.engine.maintainOrders()
            await h.settle()
        }
        #expect(book.orders.values.first { $0.purpose == .entry }?.status == .filled, "the query found the fill")
        let plan = try #require(book.storedPlan(key))
        #expect(book.orders[plan.stopLossLeg!.clientOrderId]?.status == .new, "the silent SL was adopted")
        #expect(book.paperBook.count == 5, "entry, SL and three TPs: one order per client id, nothing sent twice")
        #expect(Set(book.paperBook.keys) == Set(book.orders.keys))
    }

    @Test func aStopRefusedAsAlreadyTriggeredIsAnExitAtMarket() async throws {
        let (book, h) = try await make()
        await h.venue.setFaults(
            {
                var f = PaperFaults()
                f.refusals = [.init(PaperFaults.error(code: -2021), of: .stopMarket)]
                return f
            }())
        try await h.signal(.buy)
        #expect(book.storedPlan(PositionKey(symbol: "BTCUSDT", side: .long)) == nil)
        #expect(book.history.last?.closedReason == .stopLoss)
        #expect(book.storedPosition(PositionKey(symbol: "BTCUSDT", side: .long)) == nil, "exited at market")
        #expect(book.events(.orderRejected).first?.data["code"] as? Int == -2021)
        #expect(h.resting(PositionKey(symbol: "BTCUSDT", side: .long), in: book.paperBook).isEmpty, "the TPs placed meanwhile are cancelled")
    }

    @Test func aPricePastAStuckRestingStopForThreeSecondsIsAnExitAtMarket() async throws {
        var faults = PaperFaults()
        faults.stuckStops = true
        let (book, h) = try await make(faults: faults)
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        try await h.signal(.buy)
        await h.tick(48_700)
        #expect(book.storedPlan(key) != nil, "the venue's stop did not fill; not yet 3 s")
        try await Task.sleep(for: .milliseconds(2_000))
        await h.engine.maintainOrders()
        await h.settle()
        #expect(book.storedPlan(key) != nil, "2 s is not 3 s")
        try await Task.sleep(for: .milliseconds(1_100))
        await h.engine.maintainOrders()
        await h.settle()
        #expect(book.storedPlan(key) == nil)
        #expect(book.history.last?.closedReason == .stopLoss)
        #expect(book.storedPosition(key) == nil, "exited at market")
        #expect(book.orders.keys.contains { $0.hasPrefix("em-") }, "the market exit has an id of its own")
        #expect(h.resting(key, in: book.paperBook).isEmpty, "the stuck stop and the TPs are cancelled")
    }

    @Test func fillsMissedInAStreamGapAreFoundByTheReconciliationAfterIt() async throws {
        let (book, h) = try await make()
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        try await h.signal(.buy)
        await h.venue.dropEvents(true)
        await h.tick(50_760)  // TP1 fills at the venue; the service hears nothing
        #expect(book.storedPlan(key)?.legs[0].status == .pending)
        #expect(book.storedPosition(key)?.quantity == 0.007, "the venue filled it")
        await h.venue.dropEvents(false)  // the stream is back: a gap
        await h.settle()
        let plan = try #require(book.storedPlan(key))
        #expect(plan.legs[0].status == .filled && plan.remainingQuantity == 0.007, "the query after the gap found the fill")
        #expect(plan.stopLossLeg?.triggerPrice == 50_040, "and the stop moved to breakeven")
        let stops = h.resting(key, in: book.paperBook).filter { $0.type == .stopMarket }
        #expect(stops.count == 1 && stops.first?.quantity == Decimal(string: "0.007"))
    }

    @Test func theTrailingStopMovesTheRestingStopUpNeverWithoutOne() async throws {
        let (book, h) = try await make()
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        try await h.signal(.buy, context: PlanContext(rlHints: RLHints(trailCallbackPct: 0.01, confidence: 0.75)))
        let plan = try #require(book.storedPlan(key))
        let activation = try #require(plan.trailing.activationPrice, "a trailing plan: \(plan.strategyId)")
        var last = Decimal(0)
        for price in [activation + 10, activation + 300, activation + 600, activation + 500] {
            await h.tick(price)
            let stops = h.resting(key, in: book.paperBook).filter { $0.type == .stopMarket }
            #expect(stops.count == 1, "exactly one resting stop after \(price): \(stops.map(\.triggerPrice))")
            let trigger = try #require(stops.first?.triggerPrice)
            #expect(trigger >= last, "a stop only tightens")
            last = trigger
        }
        let trail = try #require(book.storedPlan(key)?.trailing.stopPrice)
        #expect(last == Decimal(rounding: trail).rounded(toMultipleOf: Decimal(string: "0.01")!, .up), "the resting stop is the trailing stop")
        await h.tick(trail - 50)
        #expect(book.storedPlan(key) == nil && book.history.last?.closedReason == .trailingStop)
        #expect(book.storedPosition(key) == nil)
    }

    @Test func aCloseSignalExitsAtMarketAndCancelsTheRestingOrders() async throws {
        let (book, h) = try await make()
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        try await h.signal(.buy)
        #expect(h.resting(key, in: book.paperBook).count == 4)
        try await h.signal(.buy, price: 50_100, action: .close)
        #expect(book.storedPosition(key) == nil && book.storedPlan(key) == nil)
        #expect(book.history.last?.closedReason == .positionClosed)
        #expect(h.resting(key, in: book.paperBook).isEmpty)
        #expect(book.events(.orderCanceled).count == 4)
        #expect(book.events(.orderCanceled).allSatisfy { $0.data["reason"] as? String == "POSITION_CLOSED" })
    }

    @Test func aPositionClosedReopenedAndClosedAgainIsClosedBothTimes() async throws {
        let (book, h) = try await make(["EXIT_BRAIN_V3_ENABLED": "false"])
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        for round in 0..<2 {
            try await h.signal(.buy)
            #expect(book.storedPosition(key)?.quantity == 0.01, "round \(round)")
            try await h.signal(.buy, action: .close)
            #expect(book.storedPosition(key) == nil, "round \(round): each close is its own order")
        }
        #expect(book.orders.values.filter { $0.clientOrderId.hasPrefix("cl-") }.count == 2)
    }

    @Test func theExitThatClosesAPlanClosesThePositionWhateverTheStepLeftOver() async throws {
        let (book, h) = try await make(["EXIT_ORDERS": "ON_TRIGGER"])
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        try await h.signal(.buy, quantity: 0.0101)
        let plan = try #require(book.storedPlan(key))
        #expect(plan.legs[0].quantity == 0.00303, "the plan's legs are finer than the venue's step of 0.0001")
        await h.tick(50_760)
        await h.tick(51_260)
        #expect(book.storedPosition(key)?.quantity == 0.0041, "two TPs of 0.003 at the venue's step")
        await h.tick(50_700)
        #expect(book.storedPlan(key) == nil && book.history.last?.closedReason == .stopLoss)
        #expect(book.storedPosition(key) == nil, "the stop took all the venue held, not the plan's 0.00404")
    }

    @Test func delayedVenueEventsAreAppliedWhenTheyArrive() async throws {
        var faults = PaperFaults()
        faults.eventDelay = .milliseconds(150)
        let (book, h) = try await make(faults: faults)
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        try await h.signal(.buy)
        await h.engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 50_760))
        #expect(book.storedPlan(key)?.legs[0].status == .pending, "the fill's news is still on its way")
        try await Task.sleep(for: .milliseconds(300))
        await h.settle()
        #expect(book.storedPlan(key)?.legs[0].status == .filled)
        #expect(book.storedPlan(key)?.stopLossLeg?.triggerPrice == 50_040)
    }

    /// The stop filled at the venue, its news still on the way, and a new entry fills: the venue's
    /// position is the new one alone. The plan takes the stop's fill first (asked for), closes,
    /// and the new position gets a plan of its own; re-planning the old plan would count the
    /// stop's exit against the new position.
    @Test func anEntryAfterAStopFilledUnseenGetsANewPlan() async throws {
        var faults = PaperFaults()
        faults.eventDelay = .milliseconds(300)
        let (book, h) = try await make(faults: faults)
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        try await h.signal(.buy)
        let first = try #require(book.storedPlan(key))
        await h.engine.handleTick(MarketTick(symbol: "BTCUSDT", price: 48_700))
        #expect(book.storedPlan(key)?.stopLossLeg?.status == .pending, "the stop's news is still on its way")
        try await h.signal(.buy, quantity: 0.02, price: 48_700)
        // The stop's own news, when it comes, changes nothing more.
        try await Task.sleep(for: .milliseconds(400))
        await h.settle()
        let plan = try #require(book.storedPlan(key))
        #expect(book.storedPosition(key)?.quantity == 0.02)
        #expect(plan.planId != first.planId, "the old plan was re-planned for the new position")
        #expect(plan.initialQuantity == 0.02 && plan.remainingQuantity == 0.02 && !plan.legs.contains { $0.status == .filled })
        let closed = try #require(book.history.last)
        #expect(closed.planId == first.planId && closed.closedReason == .stopLoss)
        for p in book.history + [plan] {
            let exited = p.legs.filter { $0.status == .filled }.reduce(0) { $0 + $1.quantity }
            #expect(exited <= p.initialQuantity + 1e-9, "plan \(p.planId) v\(p.version) exited \(exited) of \(p.initialQuantity)")
        }
    }

    @Test func finalRecordsPastTheirRetentionAreRemovedAtReconciliation() async throws {
        let (book, h) = try await make(["ORDER_RECORD_RETENTION_H": "24"])
        try await h.signal(.buy, id: "old")
        try await h.signal(.buy, symbol: "ETHUSDT", id: "new", price: 3_000)
        var old = try #require(book.orders.values.first { $0.purpose == .entry && $0.key.symbol == "BTCUSDT" })
        old.updatedAt = Date().addingTimeInterval(-25 * 3600)
        var writes = book.writes()
        writes.put(try .update(old))
        try await book.commit(writes)
        let report = try await h.engine.reconcile()
        #expect(report.recordsRemoved == 1)
        #expect(book.orders[old.clientOrderId] == nil && book.paperBook[old.clientOrderId] == nil, "a day-old filled entry is gone")
        #expect(book.orders.values.contains { $0.purpose == .entry && $0.key.symbol == "ETHUSDT" }, "a fresh one stays")
        #expect(book.orders.values.filter { $0.status == .new }.count == 8, "working orders stay, whatever their age")
    }

    @Test func aRateLimitedOrderWaitsAndGoesOut() async throws {
        let (book, h) = try await make()
        await h.venue.setFaults(
            {
                var f = PaperFaults()
                f.refusals = [.init(PaperFaults.error(code: -1003), of: .stopMarket)]
                return f
            }())
        try await h.signal(.buy)
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        let sl = try #require(book.storedPlan(key)?.stopLossLeg?.clientOrderId)
        #expect(book.orders[sl]?.status == .intent, "not sent while the venue says slow down")
        try await Task.sleep(for: .milliseconds(1_100))
        await h.engine.maintainOrders()
        await h.settle()
        #expect(book.orders[sl]?.status == .new)
        #expect(book.paperBook[sl] != nil)
    }

    @Test func aReduceOnlyRefusalReadsThePositionAndPlacesTheLegAgain() async throws {
        let (book, h) = try await make()
        await h.venue.setFaults(
            {
                var f = PaperFaults()
                f.refusals = [.init(PaperFaults.error(code: -2022), of: .stopMarket)]
                return f
            }())
        try await h.signal(.buy)
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        let first = try #require(book.storedPlan(key)?.stopLossLeg?.clientOrderId)
        #expect(book.orders[first]?.status == .rejected)
        #expect(book.storedPlan(key) != nil, "the position is there, so the plan stays")
        try await Task.sleep(for: .milliseconds(1_100))
        await h.engine.maintainOrders()
        await h.settle()
        let again = try #require(book.storedPlan(key)?.stopLossLeg?.clientOrderId)
        #expect(again != first, "a new client id for the leg")
        #expect(book.orders[again]?.status == .new)
    }

    @Test func aRefusedEntryLeavesNoPositionAndNoPlan() async throws {
        let (book, h) = try await make()
        await h.venue.setFaults(
            {
                var f = PaperFaults()
                f.refusals = [.init(PaperFaults.error(code: -2019), of: .market)]
                return f
            }())
        await #expect(throws: EventRejection.self) { try await h.signal(.buy) }
        #expect(book.storedPosition(PositionKey(symbol: "BTCUSDT", side: .long)) == nil)
        #expect(book.storedPlan(PositionKey(symbol: "BTCUSDT", side: .long)) == nil)
        #expect(book.orders.values.map(\.status) == [.rejected])
        #expect(book.events(.orderRejected).first?.data["code"] as? Int == -2019)
    }

    @Test func aRedeliveredSignalIsOneOrder() async throws {
        let (book, h) = try await make()
        try await h.signal(.buy, id: "signal-1")
        try await h.signal(.buy, id: "signal-1")
        #expect(book.orders.values.filter { $0.purpose == .entry }.count == 1)
        #expect(book.storedPosition(PositionKey(symbol: "BTCUSDT", side: .long))?.quantity == 0.01)
        #expect(book.events(.orderFilled).count == 1)
    }

    @Test func aPlanChangedElsewhereGetsNoOrderAtItsOldPrice() async throws {
        let (book, h) = try await make(["EXIT_ORDERS": "ON_TRIGGER"])
        try await h.signal(.buy)
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        var changed = try #require(book.storedPlan(key))
        changed.legs[0].triggerPrice = 51_000
        changed.version += 1
        try book.seed(changed)
        await h.tick(50_760)
        #expect(book.orders.count == 1, "the stale TP1 is not placed")
        #expect(book.storedPlan(key)?.version == changed.version)
        await h.tick(51_010)
        #expect(book.storedPlan(key)?.legs[0].status == .filled, "the reloaded plan's TP1 fills at its new price")
        #expect(book.orders.count == 2)
    }

    @Test(arguments: modes)
    func shadowDecidesAndPlacesNothing(mode: ExitOrdersMode) async throws {
        let (book, h) = try await make(["EXIT_EXECUTOR_MODE": "SHADOW", "EXIT_ORDERS": mode.rawValue])
        try await h.signal(.buy)
        await h.tick(50_760)
        await h.tick(50_770)
        #expect(book.events(.legTriggered).map { $0.data["shadow"] as? Bool } == [true], "one decision, published once")
        #expect(book.storedPlan(PositionKey(symbol: "BTCUSDT", side: .long))?.version == 1)
        #expect(book.orders.count == 1, "only the entry")
        #expect(book.paperBook.count == 1)
    }

    @Test func resyncPicksUpPlansOthersStoredAndDropsClosedOnes() async throws {
        let (book, h) = try await make(["EXIT_ORDERS": "ON_TRIGGER"])
        let engine = h.engine
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
        try await h.signal(.buy)
        let before = book.roundTrips
        try await engine.resync()
        #expect(book.roundTrips - before == 1, "names only, not the engine's own new plan")
    }

    @Test func aResyncUnderWayNeitherDropsAPlanMadeMeanwhileNorTakesBackOneClosed() async throws {
        let book = InMemoryBook(source: "execution-service")
        let reader = HeldReader(book)
        let config = try ExecutionConfiguration(environment: ["EXIT_EXECUTOR_MODE": "LIVE", "EXIT_ORDERS": "ON_TRIGGER"])
        let h = await VenueHarness(book: book, config: config, reader: reader)
        let eth = PositionKey(symbol: "ETHUSDT", side: .long)
        let btc = PositionKey(symbol: "BTCUSDT", side: .long)
        try await h.signal(.buy, symbol: "ETHUSDT", price: 3_000)
        try await h.engine.resync()
        #expect(await h.engine.cachedPlan(eth) != nil)
        // The full read takes its snapshot (ETH's plan, no BTC plan), then is held while the
        // engine plans BTC and closes ETH.
        reader.holdNextRead()
        await h.engine.readEverythingNext()
        let resync = Task { try await h.engine.resync() }
        #expect(await reader.waitUntilHeld(), "the resync read through the reader")
        try await h.signal(.buy, symbol: "BTCUSDT")
        try await h.signal(.buy, symbol: "ETHUSDT", price: 3_000, action: .close)
        #expect(book.storedPlan(eth) == nil && book.storedPlan(btc) != nil)
        reader.release()
        try await resync.value
        #expect(await h.engine.cachedPlan(btc) != nil, "a plan made while the read was under way stays")
        #expect(await h.engine.cachedPlan(eth) == nil, "a plan closed while the read was under way is not taken back")
        // The next resyncs see the book as it is.
        try await h.engine.resync()
        #expect(await h.engine.cachedPlan(btc) != nil)
        #expect(await h.engine.cachedPlan(eth) == nil)
    }

    @Test func aRetroactivePlanGetsItsRestingOrders() async throws {
        let (book, h) = try await make()
        let snapshot = PositionSnapshot(
            symbol: "ETHUSDT", side: .short, quantity: 1, entryPrice: 3_000, markPrice: 3_000, leverage: 5, unrealizedPnl: 0,
            openedAt: Date(), updatedAt: Date())
        try book.seed(snapshot)
        let plan = try Planner().makePlan(
            PlannerInput(
                symbol: "ETHUSDT", side: .short, entryPrice: 3_000, quantity: 1, leverage: 5, source: .retroactive, planId: RandomUUID.string(),
                now: Date()))
        try book.seed(plan)
        await h.tick(3_000, symbol: "ETHUSDT")
        try await h.engine.resync()
        await h.settle()
        let resting = h.resting(plan.key, in: book.paperBook)
        #expect(resting.contains { $0.type == .stopMarket && $0.triggerPrice == Decimal(string: "3075") }, "\(resting.map(\.triggerPrice))")
        #expect(resting.count == 4)
    }
}

/// A plan reader over a book whose next full read takes its snapshot and then waits until released.
final class HeldReader: BookReading {
    private let book: InMemoryBook
    private let state = Mutex<(armed: Bool, held: Bool, released: Bool)>((false, false, false))

    init(_ book: InMemoryBook) { self.book = book }

    func holdNextRead() { state.withLock { $0 = (true, false, false) } }
    func release() { state.withLock { $0.released = true } }

    /// Waits (up to 5 s) until a read is held; false if none came.
    func waitUntilHeld() async -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if state.withLock({ $0.held }) { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return false
    }

    func readAll(_ hashes: [BookHash]) async throws(CoordinationError) -> [[(field: String, bytes: [UInt8])]] {
        let snapshot = try await book.readAll(hashes)
        let hold = state.withLock { s in
            defer { s.armed = false }
            if s.armed { s.held = true }
            return s.armed
        }
        while hold, !state.withLock({ $0.released }) { try? await Task.sleep(for: .milliseconds(1)) }
        return snapshot
    }

    func fieldNames(_ hashes: [BookHash]) async throws(CoordinationError) -> [[String]] { try await book.fieldNames(hashes) }

    func fetch(_ requests: [(hash: BookHash, fields: [String])]) async throws(CoordinationError) -> [[[UInt8]?]] {
        try await book.fetch(requests)
    }
}
