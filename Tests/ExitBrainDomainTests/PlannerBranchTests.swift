import ExitBrainDomain
import Foundation
import Testing

/// Targets, risk modes, regimes, hint confidence, strategy branches, trailing, CHALLENGE_100, retroactive, replan.
@Suite struct PlannerBranchTests {
    // MARK: Targets

    @Test(arguments: [
        (RiskMode.normal, 0.03, 0.025),
        (.conservative, 0.021, 0.0175),
        (.critical, 0.015, 0.0125),
        (.essActive, 0.015, 0.01),  // 0.009 → 0.015 and 0.0075 → 0.01 by the clamps
    ])
    func riskModeMultiplier(_ mode: RiskMode, _ tp: Double, _ sl: Double) throws {
        let targets = PlanTargets(Fixture.input(context: Fixture.context(risk: mode)))
        #expect(close(targets.takeProfitPct, tp))
        #expect(close(targets.stopLossPct, sl))
        if mode != .essActive {
            let plan = try Fixture.plan(Fixture.input(context: Fixture.context(risk: mode)))
            #expect(close(plan.tpPcts[0], tp * 0.5, 1e-7))
            #expect(close(plan.stop?.triggerPct ?? 0, -sl))
        }
    }

    @Test(arguments: [
        (MarketRegime.normal, 0.03, 0.025, true),
        (.volatile, 0.039, 0.0375, false),
        (.trending, 0.045, 0.02, true),
        (.rangeBound, 0.024, 0.03, false),
    ])
    func regimeMultipliers(_ regime: MarketRegime, _ tp: Double, _ sl: Double, _ trailing: Bool) throws {
        let input = Fixture.input(context: Fixture.context(trail: 0.01, regime: regime))
        let targets = PlanTargets(input)
        #expect(targets.regime == regime)
        #expect(close(targets.takeProfitPct, tp))
        #expect(close(targets.stopLossPct, sl))
        let plan = try Fixture.plan(input)
        #expect(plan.marketRegime == regime)
        #expect(plan.trailing.enabled == trailing)
        #expect(plan.trailing.callbackPct == 0.01)
    }

    @Test(arguments: [
        (0.05, 0.0, MarketRegime.volatile),
        (0.045, 0.9, .volatile),  // volatility is checked first
        (0.04, 0.0, .normal),  // not above 0.04
        (0.02, 0.7, .trending),
        (0.02, -0.7, .trending),
        (0.02, 0.6, .normal),  // not above 0.6
        (0.01, 0.8, .trending),  // trend before range
        (0.01, 0.0, .rangeBound),
        (0.015, 0.0, .normal),  // not below 0.015
        (0.02, 0.0, .normal),
    ])
    func regimeInference(_ volatility: Double, _ trend: Double, _ expected: MarketRegime) throws {
        #expect(PlanTargets.inferRegime(volatility: volatility, trendStrength: trend) == expected)
        let plan = try Fixture.plan(Fixture.input(context: Fixture.context(volatility: volatility, trend: trend, regime: nil)))
        #expect(plan.marketRegime == expected)
    }

    @Test func regimeInferredFromDefaultsWhenMarketDataAbsent() throws {
        let plan = try Fixture.plan(Fixture.input(context: PlanContext(rlHints: RLHints(trailCallbackPct: 0.01))))
        #expect(plan.marketRegime == .normal)
        #expect(plan.trailing.enabled)
    }

    @Test(arguments: [
        (0.2, 0.15),  // TP clamp high
        (0.005, 0.015),  // TP clamp low
    ])
    func takeProfitTargetClamp(_ hint: Double, _ expected: Double) {
        #expect(PlanTargets(Fixture.input(context: Fixture.context(tp: hint))).takeProfitPct == expected)
    }

    @Test(arguments: [
        (0.08, 0.05),  // SL clamp high
        (0.002, 0.01),  // SL clamp low
        (0.03, 0.03),
    ])
    func stopLossClamp(_ hint: Double, _ expected: Double) throws {
        #expect(PlanTargets(Fixture.input(context: Fixture.context(sl: hint))).stopLossPct == expected)
        #expect(try Fixture.plan(Fixture.input(context: Fixture.context(sl: hint))).stop?.triggerPct == -expected)
    }

    @Test func hintsAreUsed() throws {
        let plan = try Fixture.plan(Fixture.input(context: Fixture.context(tp: 0.06, sl: 0.02, trail: 0.012)))
        #expect(plan.tpPcts == [0.03, 0.05, 0.08])
        #expect(plan.stop?.triggerPct == -0.02)
        #expect(plan.trailing.enabled)
        #expect(plan.trailing.callbackPct == 0.012)
    }

    @Test func hintWithConfidenceBelowHalfIsIgnored() throws {
        let plan = try Fixture.plan(Fixture.input(context: Fixture.context(tp: 0.06, sl: 0.02, trail: 0.012, confidence: 0.49)))
        // Defaults (TP 0.03, SL 0.025), no trailing; confidence ≤ 0.6 still scales the ladder by 0.75.
        #expect(plan.tpPcts == [0.01125, 0.01875, 0.03])
        #expect(plan.stop?.triggerPct == -0.025)
        #expect(!plan.trailing.enabled)
        #expect(plan.confidence == 0.49)
    }

    @Test func hintWithConfidenceExactlyHalfIsUsed() throws {
        let plan = try Fixture.plan(Fixture.input(context: Fixture.context(sl: 0.02, confidence: 0.5)))
        #expect(plan.stop?.triggerPct == -0.02)
    }

    @Test func maxLossIsTheStopFallback() throws {
        let plan = try Fixture.plan(Fixture.input(context: Fixture.context(maxLoss: 0.02)))
        #expect(plan.stop?.triggerPct == -0.02)
        let hinted = try Fixture.plan(Fixture.input(context: Fixture.context(sl: 0.03, maxLoss: 0.02)))
        #expect(hinted.stop?.triggerPct == -0.03)
    }

    // MARK: Strategies

    @Test(arguments: [PositionSide.long, .short])
    func essActiveGivesEmergencyExit(_ side: PositionSide) throws {
        let plan = try Fixture.plan(Fixture.input(side: side, mark: 49_900, context: Fixture.context(risk: .essActive)))
        #expect(plan.strategyId == .emergencyExit)
        #expect(plan.legs.count == 1)
        let leg = plan.legs[0]
        #expect(leg.kind == .emergency)
        #expect(leg.sizePct == 1.0)
        #expect(leg.quantity == 0.01)
        #expect(leg.triggerPrice == 49_900)
        #expect(leg.triggerPct == (side == .long ? -0.002 : 0.002))
        #expect(!plan.trailing.enabled)
    }

    @Test func profitLockLong() throws {
        // Move 0.012 × leverage 10 = 0.12 > 0.10.
        let plan = try Fixture.plan(Fixture.input(mark: 50_600, context: Fixture.context(trail: 0.01)))
        #expect(plan.strategyId == .profitLock)
        #expect(plan.legs.map(\.kind) == [.takeProfit, .stopLoss])
        #expect(plan.legs[0].triggerPct == 0.018)
        #expect(plan.legs[0].triggerPrice == 50_900)
        #expect(plan.legs[0].sizePct == 1.0)
        #expect(plan.legs[0].quantity == 0.01)
        #expect(plan.legs[1].triggerPct == 0.002)
        #expect(plan.legs[1].triggerPrice == 50_100)
        #expect(plan.legs[1].quantity == 0.01)
        #expect(!plan.trailing.enabled)
    }

    @Test func profitLockShortMirrors() throws {
        let plan = try Fixture.plan(Fixture.input(side: .short, mark: 49_400))
        #expect(plan.strategyId == .profitLock)
        #expect(plan.legs[0].triggerPct == 0.018)
        #expect(plan.legs[0].triggerPrice == 49_100)
        #expect(plan.legs[1].triggerPct == 0.002)
        #expect(plan.legs[1].triggerPrice == 49_900)
    }

    @Test func lossOrSmallProfitIsNotProfitLock() throws {
        #expect(try Fixture.plan(Fixture.input(mark: 50_450)).strategyId == .standardLadder)
        #expect(try Fixture.plan(Fixture.input(mark: 45_000)).strategyId == .standardLadder)
        #expect(try Fixture.plan(Fixture.input(side: .short, mark: 50_600)).strategyId == .standardLadder)
        #expect(try Fixture.plan(Fixture.input(leverage: 20, mark: 50_300)).strategyId == .profitLock)
    }

    // MARK: Trailing

    @Test func trailingArmsAtSecondTakeProfit() throws {
        let plan = try Fixture.plan(Fixture.input(context: Fixture.context(trail: 0.01)))
        #expect(plan.trailing == TrailingState(enabled: true, callbackPct: 0.01, activationPrice: 51_250))
        let short = try Fixture.plan(Fixture.input(side: .short, context: Fixture.context(trail: 0.01)))
        #expect(short.trailing.activationPrice == 48_750)
    }

    @Test func noCallbackNoTrailing() throws {
        #expect(try !Fixture.plan(Fixture.input(context: Fixture.context(regime: .trending))).trailing.enabled)
    }

    // MARK: CHALLENGE_100

    @Test func challengeWithoutAtrUsesStopDistance() throws {
        let plan = try Fixture.plan(Fixture.input(profile: .challenge100))
        #expect(plan.strategyId == .challenge100)
        #expect(plan.profile == .challenge100)
        #expect(plan.legs.map(\.kind) == [.takeProfit, .stopLoss, .trail])
        #expect(plan.legs.map(\.triggerPct) == [0.025, -0.025, 0.025])
        #expect(plan.legs.map(\.sizePct) == [0.30, 1.0, 0.70])
        #expect(plan.legs.map(\.quantity) == [0.003, 0.01, 0.007])
        #expect(plan.legs.map(\.triggerPrice) == [51_250, 48_750, 51_250])
        #expect(plan.trailing == TrailingState(enabled: true, callbackPct: 0.02, activationPrice: 51_250))
        #expect(plan.timeStopAt == Fixture.t0.addingTimeInterval(7200))
        let text = try PlanJSON.encodeString(plan)
        #expect(text.hasSuffix("\"closed_reason\":null,\"time_stop_at\":\"2026-11-25T20:38:24.123Z\"}"))
    }

    @Test(arguments: [(0.015, 0.03), (0.001, 0.01), (0.04, 0.05)])
    func challengeWithAtr(_ atr: Double, _ r: Double) throws {
        let plan = try Fixture.plan(Fixture.input(context: Fixture.context(regime: .volatile, atr: atr), profile: .challenge100))
        #expect(plan.legs.map(\.triggerPct) == [r, -r, r])
        #expect(plan.trailing.enabled)  // CHALLENGE_100 overrides the regime's no-trailing
        #expect(plan.trailing.activationPrice == Rounding.price(50_000 * (1 + r)))
    }

    @Test func emergencyBeatsChallenge() throws {
        let plan = try Fixture.plan(Fixture.input(context: Fixture.context(risk: .essActive), profile: .challenge100))
        #expect(plan.strategyId == .emergencyExit)
    }

    // MARK: Retroactive and replan

    @Test func retroactiveHints() throws {
        let input = PlannerInput.retroactive(
            symbol: "ETHUSDT", side: .long, entryPrice: 50_000, quantity: 0.01, leverage: 10,
            planId: Fixture.planId, now: Fixture.t0
        )
        #expect(input.context.rlHints == RLHints(tpTargetPct: 0.03, slTargetPct: 0.02, trailCallbackPct: 0.015, confidence: 0.60))
        let plan = try Planner().makePlan(input)
        #expect(plan.source == .retroactive)
        #expect(plan.confidence == 0.6)
        #expect(plan.tpPcts == [0.01125, 0.01875, 0.03])  // confidence ≤ 0.6 → ladder × 0.75
        #expect(plan.stop?.triggerPct == -0.02)
        #expect(plan.trailing == TrailingState(enabled: true, callbackPct: 0.015, activationPrice: 50_937.5))
    }

    @Test func retroactiveKeepsGivenHintsAndMarketData() {
        let input = PlannerInput.retroactive(
            symbol: "ETHUSDT", side: .short, entryPrice: 3000, quantity: 1, leverage: 5,
            context: PlanContext(rlHints: RLHints(slTargetPct: 0.03), marketData: MarketData(volatility: 0.05)),
            planId: Fixture.planId, now: Fixture.t0
        )
        #expect(input.context.rlHints == RLHints(tpTargetPct: 0.03, slTargetPct: 0.03, trailCallbackPct: 0.015, confidence: 0.6))
        #expect(input.context.marketData?.volatility == 0.05)
        #expect(input.source == .retroactive)
    }

    @Test func replanKeepsIdentityAndBumpsVersion() throws {
        let planner = Planner()
        let first = try planner.makePlan(Fixture.input())
        var input = Fixture.input(entry: 50_500, quantity: 0.02)
        input.planId = "another-id"
        input.now = Fixture.t0.addingTimeInterval(60)
        let second = try planner.replan(existing: first, input: input)
        #expect(second.planId == first.planId)
        #expect(second.createdAt == first.createdAt)
        #expect(second.updatedAt == Fixture.t0.addingTimeInterval(60))
        #expect(second.version == 2)
        #expect(second.initialQuantity == 0.02)
        #expect(second.remainingQuantity == 0.02)
        #expect(second.entryPrice == 50_500)
        #expect(second.takeProfits.map(\.quantity) == [0.006, 0.006, 0.008])
        #expect(second.legs.allSatisfy { $0.clientOrderId.hasSuffix("-2") })
        #expect(Set(second.legs.map(\.clientOrderId)).isDisjoint(with: first.legs.map(\.clientOrderId)))
    }

    @Test func replanRejectsOtherPositionOrClosedPlan() throws {
        let planner = Planner()
        let first = try planner.makePlan(Fixture.input())
        #expect(throws: DomainError.self) { try planner.replan(existing: first, input: Fixture.input(side: .short)) }
        let closed = PlanExecutor().close(plan: first, reason: .positionClosed, now: Fixture.t0)
        let error = #expect(throws: DomainError.self) { try planner.replan(existing: closed, input: Fixture.input()) }
        #expect(error?.code == .mismatch)
    }

    // MARK: Mirror

    @Test(arguments: [
        Fixture.neutralContext,
        Fixture.context(trail: 0.01, regime: .trending),
        Fixture.context(tp: 0.05, sl: 0.015, confidence: 0.9, volatility: 0.04, regime: nil),
        Fixture.context(risk: .conservative, regime: .rangeBound),
    ])
    func shortMirrorsLong(_ context: PlanContext) throws {
        for profile in ExitProfile.allCases {
            let long = try Fixture.plan(Fixture.input(side: .long, context: context, profile: profile))
            let short = try Fixture.plan(Fixture.input(side: .short, context: context, profile: profile))
            #expect(long.legs.map(\.triggerPct) == short.legs.map(\.triggerPct))
            #expect(long.legs.map(\.sizePct) == short.legs.map(\.sizePct))
            #expect(long.legs.map(\.quantity) == short.legs.map(\.quantity))
            #expect(long.legs.map(\.kind) == short.legs.map(\.kind))
            for leg in short.legs {
                #expect(leg.triggerPrice == Rounding.price(50_000 * (1 - leg.triggerPct)))
            }
            #expect(long.trailing.enabled == short.trailing.enabled)
        }
    }
}
