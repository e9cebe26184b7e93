import ExitBrainDomain
import Foundation
import Testing

/// Fills reported by a venue (`applyFill`) and resting exits (`restingExits`), on the
/// 0.01 BTCUSDT position at 50000 of the scenario tests: legs TP 0.003, 0.003, 0.004, SL 48750.
@Suite struct VenueFillTests {
    let executor = PlanExecutor(feeRate: Fixture.fee)
    let t = Fixture.t0.addingTimeInterval(5)

    @Test func partialTakeProfitThenTheRestMovesTheStopOnlyOnceComplete() throws {
        let plan = try Fixture.plan(Fixture.input())
        let half = executor.applyFill(plan: plan, legIndex: 0, quantity: 0.0015, averagePrice: 50_751, complete: false, now: t)
        #expect(half.changes == [.legFilled] && half.plan.version == plan.version + 1)
        #expect(half.plan.legs[0].status == .pending && half.plan.legs[0].filledQuantity == 0.0015 && half.plan.legs[0].filledPrice == 50_751)
        #expect(half.plan.remainingQuantity == 0.0085)
        #expect(half.plan.stopLossLeg?.triggerPrice == 48_750)
        let rest = executor.applyFill(plan: half.plan, legIndex: 0, quantity: 0.0015, averagePrice: 50_752, complete: true, now: t)
        #expect(rest.plan.legs[0].status == .filled && rest.plan.legs[0].quantity == 0.003)
        #expect(rest.plan.remainingQuantity == 0.007)
        #expect(rest.plan.stopLossLeg?.triggerPrice == 50_040 && rest.plan.stopLossLeg?.quantity == 0.007)
        #expect(rest.changes.contains(.slMoved))
        #expect(rest.plan.stopLossLeg?.clientOrderId != plan.stopLossLeg?.clientOrderId, "a moved stop is a new order")
    }

    @Test func aStopFilledForLessThanRemainsLeavesTheStopPendingAndDustIsNothing() throws {
        let plan = try Fixture.plan(Fixture.input())
        let short = executor.applyFill(plan: plan, legIndex: 3, quantity: 0.006, averagePrice: 48_740, complete: true, now: t)
        #expect(short.plan.isActive && short.plan.remainingQuantity == 0.004, "an add left more than the stop was sized for")
        #expect(short.plan.stopLossLeg?.status == .pending && short.closedReason == nil)
        let all = executor.applyFill(plan: short.plan, legIndex: 3, quantity: 0.004, averagePrice: 48_740, complete: true, now: t)
        #expect(all.plan.status == .closed && all.closedReason == .stopLoss && all.plan.remainingQuantity == 0)
        let dusty = executor.applyFill(plan: plan, legIndex: 3, quantity: 0.00999, averagePrice: 48_740, complete: true, lot: 0.0001, now: t)
        #expect(dusty.plan.status == .closed, "0.00001 left is below the step: nothing")
    }

    @Test func aFillForALegThatIsNotPendingChangesNothing() throws {
        let plan = try Fixture.plan(Fixture.input())
        let done = executor.applyFill(plan: plan, legIndex: 0, quantity: 0.003, averagePrice: 50_751, complete: true, now: t)
        let again = executor.applyFill(plan: done.plan, legIndex: 0, quantity: 0.001, averagePrice: 50_751, complete: true, now: t)
        #expect(!again.changed && again.plan == done.plan)
        #expect(!executor.applyFill(plan: plan, legIndex: 9, quantity: 1, averagePrice: 1, complete: true, now: t).changed)
    }

    @Test func restingExitsLeaveCrossedLevelsToTheVenueButStillTrail() throws {
        let plan = try Fixture.plan(Fixture.input())
        let crossed = executor.evaluate(plan: plan, price: 51_300, now: t, mode: .live, restingExits: true)
        #expect(crossed.decisions.isEmpty && !crossed.changed, "TPs crossed: the venue fills them")
        let stopped = executor.evaluate(plan: plan, price: 48_000, now: t, mode: .live, restingExits: true)
        #expect(stopped.decisions.isEmpty && !stopped.changed, "the stop crossed: the venue fills it")
        let market = executor.evaluate(plan: plan, price: 48_000, now: t, mode: .live)
        #expect(market.decisions.first?.kind == .stopLoss, "without resting exits the service exits at market")
    }

    @Test func aTakeProfitAtMarketLeavesInWholeLotsAndThePlanRecordsWhatLeft() throws {
        let plan = try Fixture.plan(Fixture.input())
        let unstepped = executor.evaluate(plan: plan, price: 50_760, now: t, mode: .live)
        #expect(unstepped.decisions.first?.quantity == 0.003, "without a lot the leg's quantity")
        let stepped = executor.evaluate(plan: plan, price: 50_760, now: t, mode: .live, lot: 0.002)
        #expect(stepped.decisions.map(\.quantity) == [0.002], "0.003 in lots of 0.002")
        #expect(stepped.plan.legs[0].status == .filled && stepped.plan.legs[0].quantity == 0.002)
        #expect(stepped.plan.remainingQuantity == 0.008 && stepped.plan.stopLossLeg?.quantity == 0.008)
        let filled = stepped.plan.legs.filter { $0.status == .filled }.reduce(0) { $0 + $1.quantity }
        #expect(abs(filled + stepped.plan.remainingQuantity - plan.initialQuantity) < 1e-12, "exits and what remains add up")
        // All three TPs crossed in lots of 0.003: 0.003, 0.003, then 0.004 → 0.003 would leave
        // 0.001, less than a lot, which goes with the last.
        let all = executor.evaluate(plan: plan, price: 52_100, now: t, mode: .live, lot: 0.003)
        #expect(
            all.decisions.map(\.quantity) == [0.003, 0.003, 0.004] && all.plan.status == .closed,
            "\(all.decisions.map(\.quantity)) at \(plan.legs.map(\.triggerPrice))")
        let tiny = executor.evaluate(plan: plan, price: 50_760, now: t, mode: .live, lot: 0.005)
        #expect(
            tiny.decisions.isEmpty && tiny.plan.legs[0].status == .filled && tiny.plan.remainingQuantity == 0.01,
            "a leg under one lot sends nothing and leaves everything to the others")
    }
}
