import ExitBrainDomain
import Foundation
import Testing

/// Price paths through the executor with a 0.01 BTCUSDT position at 50000, leverage 10, neutral plan.
@Suite struct ExecutorScenarioTests {
    let executor = PlanExecutor(feeRate: Fixture.fee)

    func at(_ seconds: Double) -> Date { Fixture.t0.addingTimeInterval(seconds) }

    func live(_ plan: ExitPlan, _ price: Double, _ seconds: Double = 1) -> Evaluation {
        executor.evaluate(plan: plan, price: price, now: at(seconds), mode: .live)
    }

    @Test func longLadderPath() throws {
        let plan0 = try Fixture.plan(Fixture.input())
        #expect(live(plan0, 50_500).changed == false)
        #expect(live(plan0, 50_500).plan == plan0)

        // 50760: TP1 fills, SL to breakeven entry × (1 + 2 × 0.0004) = 50040.
        let e1 = live(plan0, 50_760, 10)
        #expect(e1.decisions.count == 1)
        let d1 = try #require(e1.decisions.first)
        #expect(d1.legIndex == 0)
        #expect(d1.kind == .takeProfit)
        #expect(d1.orderSide == .sell)
        #expect(d1.quantity == 0.003)
        #expect(d1.price == 50_760)
        #expect(d1.triggerPrice == 50_750)
        #expect(d1.clientOrderId == "eb-6f1c2a9e4b7d4e8a9c3f-0-1")
        #expect(d1.reduceOnly)
        #expect(!d1.shadow)
        #expect(d1.reason == nil)
        #expect(d1.key.description == "BTCUSDT:LONG")
        let p1 = e1.plan
        #expect(e1.changes == [.legFilled, .slMoved])
        #expect(p1.version == 2)
        #expect(p1.updatedAt == at(10))
        #expect(p1.createdAt == Fixture.t0)
        #expect(p1.remainingQuantity == 0.007)
        #expect(p1.legs[0].status == .filled)
        #expect(p1.legs[0].filledPrice == 50_760)
        #expect(p1.legs[0].filledAt == at(10))
        #expect(p1.stop?.triggerPrice == 50_040)
        #expect(p1.stop?.triggerPct == 0.0008)
        #expect(p1.stop?.quantity == 0.007)
        #expect(p1.stop?.clientOrderId == "eb-6f1c2a9e4b7d4e8a9c3f-3-2")
        #expect(p1.status == .active)

        // The same price again changes nothing: TP1 fires once.
        let again = live(p1, 50_760, 11)
        #expect(again.decisions.isEmpty)
        #expect(!again.changed)
        #expect(again.plan == p1)

        // 51260: TP2 fills, SL to TP1's trigger price 50750.
        let e2 = live(p1, 51_260, 20)
        #expect(e2.decisions.map(\.legIndex) == [1])
        let p2 = e2.plan
        #expect(p2.version == 3)
        #expect(p2.remainingQuantity == 0.004)
        #expect(p2.stop?.triggerPrice == 50_750)
        #expect(p2.stop?.quantity == 0.004)
        #expect(p2.stop?.clientOrderId == "eb-6f1c2a9e4b7d4e8a9c3f-3-3")

        // 50700: the SL closes the rest.
        let e3 = live(p2, 50_700, 30)
        let d3 = try #require(e3.decisions.first)
        #expect(e3.decisions.count == 1)
        #expect(d3.kind == .stopLoss)
        #expect(d3.legIndex == 3)
        #expect(d3.quantity == 0.004)
        #expect(d3.reason == .stopLoss)
        #expect(d3.clientOrderId == "eb-6f1c2a9e4b7d4e8a9c3f-3-3")
        let p3 = e3.plan
        #expect(e3.closedReason == .stopLoss)
        #expect(p3.status == .closed)
        #expect(p3.closedReason == .stopLoss)
        #expect(p3.remainingQuantity == 0)
        #expect(p3.version == 4)
        #expect(p3.legs.map(\.status) == [.filled, .filled, .cancelled, .filled])
        #expect(units(p3.filledQuantity) == units(0.01))

        // PnL: 0.003 × 760 + 0.003 × 1260 + 0.004 × 700 = 8.86 gross; fees 0.0004 × 1008.86.
        #expect(close(executor.realizedPnl(plan: p3), 8.86 - 0.0004 * 1008.86, 1e-9))

        // A closed plan does nothing.
        let after = live(p3, 10_000, 40)
        #expect(after.decisions.isEmpty)
        #expect(after.plan == p3)
    }

    @Test func shortLadderPathMirrors() throws {
        let plan0 = try Fixture.plan(Fixture.input(side: .short))
        #expect(plan0.legs.map(\.triggerPrice) == [49_250, 48_750, 48_000, 51_250])
        let e1 = live(plan0, 49_240)
        #expect(e1.decisions.map(\.legIndex) == [0])
        #expect(e1.decisions.first?.orderSide == .buy)
        #expect(e1.plan.stop?.triggerPrice == 49_960)  // entry × (1 − 2 × 0.0004)
        #expect(e1.plan.stop?.triggerPct == 0.0008)
        let e2 = live(e1.plan, 48_740)
        #expect(e2.decisions.map(\.legIndex) == [1])
        #expect(e2.plan.stop?.triggerPrice == 49_250)
        let e3 = live(e2.plan, 49_300)
        #expect(e3.decisions.map(\.kind) == [.stopLoss])
        #expect(e3.decisions.first?.quantity == 0.004)
        #expect(e3.plan.status == .closed)
        #expect(e3.plan.closedReason == .stopLoss)
        // Short PnL: 0.003 × 760 + 0.003 × 1260 + 0.004 × 700 gross, fees on 500 + 147.72 + 146.22 + 197.2.
        #expect(close(executor.realizedPnl(plan: e3.plan), 8.86 - 0.0004 * 991.14, 1e-9))
    }

    @Test func initialStopLossClosesEverything() throws {
        let plan = try Fixture.plan(Fixture.input())
        let e = live(plan, 48_700)
        #expect(e.decisions.map(\.quantity) == [0.01])
        #expect(e.closedReason == .stopLoss)
        #expect(e.plan.legs.map(\.status) == [.cancelled, .cancelled, .cancelled, .filled])
    }

    @Test func gapFillsSeveralTakeProfitsInOneStep() throws {
        let plan = try Fixture.plan(Fixture.input())
        let e = live(plan, 51_300)
        #expect(e.decisions.map(\.legIndex) == [0, 1])
        #expect(e.decisions.map(\.quantity) == [0.003, 0.003])
        #expect(e.plan.version == 2)
        #expect(e.plan.remainingQuantity == 0.004)
        #expect(e.plan.stop?.triggerPrice == 50_750)
        #expect(e.plan.stop?.clientOrderId.hasSuffix("-3-2") == true)
        #expect(e.changes == [.legFilled, .slMoved])
    }

    @Test func gapPastLastTakeProfitClosesWithTakeProfit() throws {
        let plan = try Fixture.plan(Fixture.input())
        let e = live(plan, 52_100)
        #expect(e.decisions.map(\.legIndex) == [0, 1, 2])
        #expect(e.decisions.map(\.reason) == [nil, nil, .takeProfit])
        #expect(e.closedReason == .takeProfit)
        #expect(e.plan.status == .closed)
        #expect(e.plan.remainingQuantity == 0)
        #expect(e.plan.stop?.status == .cancelled)
        #expect(units(e.plan.filledQuantity) == units(0.01))
    }

    @Test func trailingStopCloses() throws {
        let plan0 = try Fixture.plan(Fixture.input(context: Fixture.context(trail: 0.01)))
        // 51300: TP1 + TP2, SL to 50750, trailing arms at 51300 → stop 50787, tighter → SL 50787.
        let e1 = live(plan0, 51_300)
        #expect(e1.changes == [.legFilled, .slMoved, .trailActivated])
        #expect(e1.plan.trailing.bestPrice == 51_300)
        #expect(e1.plan.trailing.stopPrice == 50_787)
        #expect(e1.plan.stop?.triggerPrice == 50_787)
        #expect(e1.plan.version == 2)
        // 51800: trail follows, stop 51282.
        let e2 = live(e1.plan, 51_800)
        #expect(e2.changes == [.trailMoved, .slMoved])
        #expect(e2.plan.stop?.triggerPrice == 51_282)
        #expect(e2.plan.version == 3)
        // 51500: not a new best, nothing changes.
        let e3 = live(e2.plan, 51_500)
        #expect(!e3.changed)
        #expect(e3.plan.trailing.bestPrice == 51_800)
        // 51250: the trailing stop fires.
        let e4 = live(e3.plan, 51_250)
        #expect(e4.decisions.map(\.kind) == [.stopLoss])
        #expect(e4.decisions.first?.quantity == 0.004)
        #expect(e4.decisions.first?.reason == .trailingStop)
        #expect(e4.plan.closedReason == .trailingStop)
    }

    @Test func trailingNeverLoosensATighterStop() throws {
        // Trail 0.05: at 51300 the trailing stop 48735 is looser than the TP1 lock 50750; the SL stays.
        let plan0 = try Fixture.plan(Fixture.input(context: Fixture.context(trail: 0.05)))
        let e1 = live(plan0, 51_300)
        #expect(e1.plan.trailing.stopPrice == 48_735)
        #expect(e1.plan.stop?.triggerPrice == 50_750)
        // Falling to 50760 keeps everything.
        let e2 = live(e1.plan, 50_760)
        #expect(!e2.changed)
        // The stop that fires at 50700 was not set by trailing.
        #expect(live(e2.plan, 50_700).closedReason == .stopLoss)
    }

    @Test func challengeRunnerClosesByTrail() throws {
        let plan0 = try Fixture.plan(Fixture.input(profile: .challenge100))
        // 51250 = 1 R: TP1 fills, SL → breakeven 50040, trailing arms: stop 51250 × 0.98 = 50225 → SL 50225.
        let e1 = live(plan0, 51_250)
        #expect(e1.decisions.map(\.kind) == [.takeProfit])
        #expect(e1.plan.remainingQuantity == 0.007)
        #expect(e1.changes == [.legFilled, .slMoved, .trailActivated])
        #expect(e1.plan.stop?.triggerPrice == 50_225)
        let e2 = live(e1.plan, 52_000)
        #expect(e2.plan.stop?.triggerPrice == 50_960)
        let e3 = live(e2.plan, 50_900)
        let d = try #require(e3.decisions.first)
        #expect(e3.decisions.count == 1)
        #expect(d.kind == .trail)
        #expect(d.legIndex == 2)
        #expect(d.quantity == 0.007)
        #expect(d.reason == .trailingStop)
        #expect(e3.plan.legs.map(\.status) == [.filled, .cancelled, .filled])
        #expect(e3.plan.closedReason == .trailingStop)
    }

    @Test func challengeBreakevenWhenTrailIsLooser() throws {
        // ATR 0.005 → R 0.01: TP1 at 50500; trail stop 50500 × 0.98 = 49490 is looser than breakeven 50040.
        let plan0 = try Fixture.plan(Fixture.input(context: Fixture.context(atr: 0.005), profile: .challenge100))
        let e1 = live(plan0, 50_500)
        #expect(e1.plan.stop?.triggerPrice == 50_040)
        #expect(e1.plan.trailing.stopPrice == 49_490)
        let e2 = live(e1.plan, 50_000)
        #expect(e2.closedReason == .stopLoss)
        #expect(e2.decisions.map(\.kind) == [.stopLoss])
    }

    @Test func timeStopClosesWhenFirstTakeProfitDidNotFill() throws {
        let plan0 = try Fixture.plan(Fixture.input(profile: .challenge100))
        #expect(!live(plan0, 50_100, 7199).changed)
        let e = live(plan0, 50_100, 7200)
        #expect(e.closedReason == .timeStop)
        #expect(e.decisions.map(\.quantity) == [0.01])
        #expect(e.decisions.first?.reason == .timeStop)
        #expect(e.plan.status == .closed)
    }

    @Test func timeStopDoesNotFireAfterFirstTakeProfit() throws {
        let plan0 = try Fixture.plan(Fixture.input(profile: .challenge100))
        let e1 = live(plan0, 51_250, 60)
        let e2 = live(e1.plan, 51_000, 9000)
        #expect(e2.closedReason == nil)
        #expect(e2.decisions.isEmpty)
    }

    @Test func emergencyFiresAtOnceAtAnyPrice() throws {
        let plan = try Fixture.plan(Fixture.input(context: Fixture.context(risk: .essActive)))
        for price in [1.0, 50_000, 99_999] {
            let e = live(plan, price)
            #expect(e.decisions.count == 1)
            #expect(e.decisions.first?.kind == .emergency)
            #expect(e.decisions.first?.quantity == 0.01)
            #expect(e.decisions.first?.reason == .emergency)
            #expect(e.plan.status == .closed)
            #expect(e.plan.closedReason == .emergency)
        }
    }

    @Test func shadowReturnsSameDecisionsAndUnchangedPlan() throws {
        let plan = try Fixture.plan(Fixture.input(context: Fixture.context(trail: 0.01)))
        let shadow = executor.evaluate(plan: plan, price: 51_300, now: at(5), mode: .shadow)
        let live = executor.evaluate(plan: plan, price: 51_300, now: at(5), mode: .live)
        #expect(shadow.plan == plan)
        #expect(shadow.changes.isEmpty)
        #expect(!shadow.changed)
        #expect(shadow.closedReason == nil)
        #expect(shadow.decisions.count == 2)
        #expect(shadow.decisions.allSatisfy { $0.shadow })
        #expect(
            shadow.decisions.map {
                var d = $0
                d.shadow = false
                return d
            } == live.decisions)
        // The SL in shadow: decision with reason, plan still active.
        let stop = executor.evaluate(plan: plan, price: 40_000, now: at(5), mode: .shadow)
        #expect(stop.decisions.first?.reason == .stopLoss)
        #expect(stop.plan.status == .active)
    }

    @Test func invalidPricesDoNothing() throws {
        let plan = try Fixture.plan(Fixture.input())
        for price in [Double.nan, .infinity, 0, -1] {
            let e = live(plan, price)
            #expect(e.decisions.isEmpty)
            #expect(e.plan == plan)
        }
    }

    @Test func closeForPositionGone() throws {
        let plan = try Fixture.plan(Fixture.input())
        let closed = executor.close(plan: plan, reason: .positionClosed, now: at(3))
        #expect(closed.status == .closed)
        #expect(closed.closedReason == .positionClosed)
        #expect(closed.version == 2)
        #expect(closed.updatedAt == at(3))
        #expect(closed.legs.allSatisfy { $0.status == .cancelled })
        #expect(executor.close(plan: closed, reason: .stopLoss, now: at(4)) == closed)
    }

    @Test func profitLockTakeProfitClosesAll() throws {
        let plan = try Fixture.plan(Fixture.input(mark: 50_600))
        let e = live(plan, 50_950)
        #expect(e.decisions.map(\.quantity) == [0.01])
        #expect(e.closedReason == .takeProfit)
    }

    @Test func breakevenHonoursConfiguredFee() {
        #expect(PlanExecutor(feeRate: 0.001).breakevenPrice(entry: 50_000, side: .long) == 50_100)
        #expect(PlanExecutor(feeRate: 0.001).breakevenPrice(entry: 50_000, side: .short) == 49_900)
    }
}
