import ExitBrainDomain
import Foundation
import Testing

/// STANDARD_LADDER under profile DEFAULT: the neutral ladder and every row of the factor table.
@Suite struct PlannerLadderTests {
    @Test func neutralContextGivesExactlyTheReferenceLadder() throws {
        let plan = try Fixture.plan(Fixture.input())
        #expect(plan.strategyId == .standardLadder)
        #expect(plan.status == .active)
        #expect(plan.version == 1)
        #expect(plan.createdAt == Fixture.t0)
        #expect(plan.updatedAt == Fixture.t0)
        #expect(plan.closedReason == nil)
        #expect(plan.timeStopAt == nil)
        #expect(plan.marketRegime == .normal)
        #expect(plan.confidence == 0.75)
        #expect(plan.legs.map(\.kind) == [.takeProfit, .takeProfit, .takeProfit, .stopLoss])
        #expect(plan.legs.map(\.index) == [0, 1, 2, 3])
        #expect(plan.legs.map(\.triggerPct) == [0.015, 0.025, 0.04, -0.025])
        #expect(plan.legs.map(\.sizePct) == [0.30, 0.30, 0.40, 1.0])
        #expect(plan.legs.map(\.quantity) == [0.003, 0.003, 0.004, 0.01])
        #expect(plan.legs.map(\.triggerPrice) == [50_750, 51_250, 52_000, 48_750])
        #expect(plan.legs.allSatisfy { $0.status == .pending })
        #expect(plan.legs.map(\.clientOrderId) == (0...3).map { "eb-6f1c2a9e4b7d4e8a9c3f-\($0)-1" })
        #expect(plan.initialQuantity == 0.01)
        #expect(plan.remainingQuantity == 0.01)
        #expect(plan.trailing == TrailingState(enabled: false, callbackPct: 0))
    }

    @Test func noContextAtAllIsNeutralToo() throws {
        let plan = try Fixture.plan(Fixture.input(context: PlanContext()))
        #expect(plan.legs.map(\.triggerPct) == [0.015, 0.025, 0.04, -0.025])
        #expect(plan.marketRegime == .normal)
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let leverage: Double
        let quantity: Double
        let mark: Double?
        let context: PlanContext
        /// TP target after risk and regime multipliers (before the ladder).
        let target: Double
        /// Product of the ladder-table factors that apply.
        let factor: Double
        let sizes: [Double]
        let stopPct: Double
        var testDescription: String { name }

        init(
            _ name: String, leverage: Double = 10, quantity: Double = 0.01, mark: Double? = nil,
            context: PlanContext = Fixture.neutralContext, target: Double = 0.03, factor: Double,
            sizes: [Double] = [0.30, 0.30, 0.40], stopPct: Double = 0.025
        ) {
            self.name = name
            self.leverage = leverage
            self.quantity = quantity
            self.mark = mark
            self.context = context
            self.target = target
            self.factor = factor
            self.sizes = sizes
            self.stopPct = stopPct
        }
    }

    static let rows: [Row] = [
        Row("neutral", factor: 1.0),
        Row("leverage 15", leverage: 15, factor: 0.7),
        Row("leverage 25", leverage: 25, factor: 0.7),
        Row("leverage 14.9", leverage: 14.9, factor: 1.0),
        Row("leverage 5", leverage: 5, factor: 1.3),
        Row("leverage 2", leverage: 2, factor: 1.3),
        Row("notional 2000", quantity: 0.04, factor: 0.8, sizes: [0.40, 0.35, 0.25]),
        Row("notional 1999.5", quantity: 0.03999, factor: 1.0),
        Row("volatility 0.035", context: Fixture.context(volatility: 0.035), factor: 1.4),
        Row("volatility 0.015", context: Fixture.context(volatility: 0.015), factor: 0.75),
        Row(
            "regime TRENDING", context: Fixture.context(regime: .trending), target: 0.045, factor: 1.5,
            sizes: [0.20, 0.30, 0.50], stopPct: 0.02),
        Row("regime VOLATILE", context: Fixture.context(regime: .volatile), target: 0.039, factor: 0.7, stopPct: 0.0375),
        Row("regime RANGE_BOUND", context: Fixture.context(regime: .rangeBound), target: 0.024, factor: 0.7, stopPct: 0.03),
        Row("confidence 0.85", context: Fixture.context(confidence: 0.85), factor: 1.3),
        Row("confidence 0.6", context: Fixture.context(confidence: 0.6), factor: 0.75),
        Row("pnl on margin 0.05", mark: 50_250, factor: 0.8),
        Row("pnl on margin 0.09", mark: 50_450, factor: 0.8),
        Row(
            "notional and TRENDING: TRENDING sizes win", quantity: 0.04, context: Fixture.context(regime: .trending),
            target: 0.045, factor: 0.8 * 1.5, sizes: [0.20, 0.30, 0.50], stopPct: 0.02),
        Row(
            "every factor at once", leverage: 20, quantity: 0.05, mark: 50_150,
            context: Fixture.context(confidence: 0.9, volatility: 0.05, regime: .volatile),
            target: 0.039, factor: 0.7 * 0.8 * 1.4 * 0.7 * 1.3 * 0.8, sizes: [0.40, 0.35, 0.25], stopPct: 0.0375),
    ]

    @Test(arguments: rows)
    func ladderRow(_ row: Row) throws {
        let plan = try Fixture.plan(Fixture.input(quantity: row.quantity, leverage: row.leverage, mark: row.mark, context: row.context))
        #expect(plan.strategyId == .standardLadder)
        let expected = [0.5, 5.0 / 6.0, 4.0 / 3.0].map { min(max(row.target * $0 * row.factor, 0.005), 0.10) }
        #expect(plan.tpPcts.count == 3)
        for (got, want) in zip(plan.tpPcts, expected) {
            #expect(close(got, want, 1e-7), "\(row.name): TP pct \(got) != \(want)")
        }
        #expect(plan.tpSizes == row.sizes)
        let stop = try #require(plan.stop)
        #expect(close(stop.triggerPct, -row.stopPct, 1e-9), "\(row.name): SL pct \(stop.triggerPct)")
        #expect(stop.sizePct == 1.0)
        #expect(units(plan.takeProfits.reduce(0) { $0 + $1.quantity }) == units(row.quantity))
    }

    @Test func trendingLadderLiteral() throws {
        let plan = try Fixture.plan(Fixture.input(context: Fixture.context(regime: .trending)))
        #expect(plan.tpPcts == [0.03375, 0.05625, 0.09])
        #expect(plan.tpSizes == [0.20, 0.30, 0.50])
        #expect(plan.takeProfits.map(\.quantity) == [0.002, 0.003, 0.005])
        #expect(plan.stop?.triggerPct == -0.02)
    }

    @Test func distancesAreClampedHigh() throws {
        // TP hint 0.12, confidence 0.9: 0.12 × (0.5, 5/6, 4/3) × 1.3 = 0.078, 0.13, 0.208 → 0.078, 0.10, 0.10.
        let plan = try Fixture.plan(Fixture.input(context: Fixture.context(tp: 0.12, confidence: 0.9)))
        #expect(plan.tpPcts == [0.078, 0.10, 0.10])
    }

    @Test func distancesAreClampedLow() throws {
        // CRITICAL × RANGE_BOUND: TP target 0.012 → clamp 0.015; ladder 0.7 × 0.75 × 0.7 × 0.75.
        let context = Fixture.context(confidence: 0.6, risk: .critical, volatility: 0.01, regime: .rangeBound)
        let plan = try Fixture.plan(Fixture.input(leverage: 20, context: context))
        let factor = 0.7 * 0.75 * 0.7 * 0.75
        #expect(plan.tpPcts[0] == 0.005)
        #expect(plan.tpPcts[1] == 0.005)
        #expect(close(plan.tpPcts[2], 0.015 * 4 / 3 * factor, 1e-7))
        #expect(plan.tpPcts[2] > 0.005)
    }

    @Test func tpQuantitiesSumExactlyToInitialForAwkwardQuantities() throws {
        for quantity in [0.00000007, 0.0001, 0.013, 0.333, 1.23456789, 7, 12345.67891234] {
            let plan = try Fixture.plan(Fixture.input(quantity: quantity))
            #expect(units(plan.takeProfits.reduce(0) { $0 + $1.quantity }) == units(plan.initialQuantity), "quantity \(quantity)")
            #expect(plan.takeProfits.allSatisfy { $0.quantity >= 0 })
        }
    }
}
