import ExitBrainDomain
import Foundation

/// Helpers on the seeded generator, so property tests are reproducible.
extension SplitMix64 {
    mutating func double(in range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &self) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
}

enum Fixture {
    static let t0 = Timestamp.parse("2026-11-25T18:38:24.123Z") ?? Date(timeIntervalSince1970: 1_795_000_000)
    static let planId = "6f1c2a9e-4b7d-4e8a-9c3f-0d2b5e7a1c4f"
    static let fee = 0.0004

    /// The neutral context of docs/exit-rules.md: leverage 10, notional 500, volatility 0.02, NORMAL, confidence 0.75.
    static let neutralContext = PlanContext(
        rlHints: RLHints(confidence: 0.75),
        riskContext: RiskContext(riskMode: .normal),
        marketData: MarketData(volatility: 0.02, trendStrength: 0, regime: .normal)
    )

    static func input(
        side: PositionSide = .long, entry: Double = 50_000, quantity: Double = 0.01, leverage: Double = 10,
        mark: Double? = nil, context: PlanContext = neutralContext, profile: ExitProfile = .default,
        symbol: String = "BTCUSDT"
    ) -> PlannerInput {
        PlannerInput(
            symbol: symbol, side: side, entryPrice: entry, quantity: quantity, leverage: leverage, markPrice: mark,
            context: context, profile: profile, source: .execution, planId: planId, now: t0
        )
    }

    static func plan(_ input: PlannerInput) throws -> ExitPlan {
        try Planner().makePlan(input)
    }

    /// Context with only the given hint/market/risk changes on top of the neutral one.
    static func context(
        tp: Double? = nil, sl: Double? = nil, trail: Double? = nil, confidence: Double? = 0.75,
        risk: RiskMode? = .normal, maxLoss: Double? = nil,
        volatility: Double? = 0.02, trend: Double? = 0, regime: MarketRegime? = .normal, atr: Double? = nil
    ) -> PlanContext {
        PlanContext(
            rlHints: RLHints(tpTargetPct: tp, slTargetPct: sl, trailCallbackPct: trail, confidence: confidence),
            riskContext: RiskContext(riskMode: risk, maxLossPct: maxLoss),
            marketData: MarketData(volatility: volatility, trendStrength: trend, regime: regime, atrPct: atr)
        )
    }
}

extension ExitPlan {
    var takeProfits: [ExitLeg] { legs.filter { $0.kind == .takeProfit } }
    var stop: ExitLeg? { legs.first { $0.kind == .stopLoss } }
    var tpPcts: [Double] { takeProfits.map(\.triggerPct) }
    var tpSizes: [Double] { takeProfits.map(\.sizePct) }
}

/// Quantities in integer units of 1e-8, for exact sums.
func units(_ quantity: Double) -> Int64 { Int64((quantity * 1e8).rounded()) }

/// Relative closeness for computed prices and fractions.
func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
    abs(a - b) <= tolerance * max(1, abs(a), abs(b))
}
