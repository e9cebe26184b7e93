import Foundation

/// Everything the planner needs for one position. Time and ids come in: the planner has no clock.
public struct PlannerInput: Sendable {
    /// The instrument.
    public var symbol: String
    /// The position side.
    public var side: PositionSide
    /// Average entry price.
    public var entryPrice: Double
    /// Position quantity (the plan's initial quantity).
    public var quantity: Double
    /// Leverage of the position.
    public var leverage: Double
    /// Current mark price; decides PROFIT_LOCK and the PnL ladder factor.
    public var markPrice: Double
    /// The signal's context (hints, risk, market).
    public var context: PlanContext
    /// The exit profile.
    public var profile: ExitProfile
    /// Who asks for the plan.
    public var source: PlanSource
    /// Id of the new plan (a UUID string is expected).
    public var planId: String
    /// The current time; becomes `created_at` and `updated_at`.
    public var now: Date
    /// Exchange fee per side as a fraction. Validated and carried for callers; the planning rules
    /// themselves do not depend on fees (breakeven-plus-fees is applied by ``PlanExecutor``).
    public var feeRate: Double

    /// Creates an input; `markPrice` defaults to the entry price.
    public init(
        symbol: String, side: PositionSide, entryPrice: Double, quantity: Double, leverage: Double,
        markPrice: Double? = nil, context: PlanContext = PlanContext(), profile: ExitProfile = .default,
        source: PlanSource = .execution, planId: String, now: Date, feeRate: Double = 0.0004
    ) {
        self.symbol = symbol
        self.side = side
        self.entryPrice = entryPrice
        self.quantity = quantity
        self.leverage = leverage
        self.markPrice = markPrice ?? entryPrice
        self.context = context
        self.profile = profile
        self.source = source
        self.planId = planId
        self.now = now
        self.feeRate = feeRate
    }

    /// The hints the monitor uses for a position found without a plan (docs/exit-rules.md):
    /// `tp_target_pct 0.03`, `sl_target_pct 0.02`, `trail_callback_pct 0.015`, `confidence 0.60`.
    public static let retroactiveHints = RLHints(tpTargetPct: 0.03, slTargetPct: 0.02, trailCallbackPct: 0.015, confidence: 0.60)

    /// An input for a retroactive plan: source `RETROACTIVE`, and ``retroactiveHints`` filling
    /// every hint field the given context does not set (risk and market data are kept).
    public static func retroactive(
        symbol: String, side: PositionSide, entryPrice: Double, quantity: Double, leverage: Double,
        markPrice: Double? = nil, context: PlanContext = PlanContext(), profile: ExitProfile = .default,
        planId: String, now: Date, feeRate: Double = 0.0004
    ) -> PlannerInput {
        var context = context
        let given = context.rlHints ?? RLHints()
        let defaults = retroactiveHints
        context.rlHints = RLHints(
            tpTargetPct: given.tpTargetPct ?? defaults.tpTargetPct,
            slTargetPct: given.slTargetPct ?? defaults.slTargetPct,
            trailCallbackPct: given.trailCallbackPct ?? defaults.trailCallbackPct,
            confidence: given.confidence ?? defaults.confidence
        )
        return PlannerInput(
            symbol: symbol, side: side, entryPrice: entryPrice, quantity: quantity, leverage: leverage,
            markPrice: markPrice, context: context, profile: profile, source: .retroactive,
            planId: planId, now: now, feeRate: feeRate
        )
    }

    /// An input for a position snapshot (entry, quantity, leverage and mark price taken from it).
    public init(
        position: PositionSnapshot, context: PlanContext = PlanContext(), profile: ExitProfile = .default,
        source: PlanSource = .execution, planId: String, now: Date, feeRate: Double = 0.0004
    ) {
        self.init(
            symbol: position.symbol, side: position.side, entryPrice: position.entryPrice,
            quantity: position.quantity, leverage: position.leverage, markPrice: position.markPrice,
            context: context, profile: profile, source: source, planId: planId, now: now, feeRate: feeRate
        )
    }

    /// The position key of the input.
    public var key: PositionKey { PositionKey(symbol: symbol, side: side) }

    /// Checks every field; throws ``DomainError`` naming the first bad one.
    public func validate() throws(DomainError) {
        guard !symbol.isEmpty else { throw DomainError(.invalidValue, "symbol must not be empty") }
        guard !ClientOrderID.stem(planId).isEmpty else {
            throw DomainError(.invalidValue, "plan_id = \"\(planId)\": must contain letters or digits (a UUID is expected)")
        }
        try FractionRules.positive(entryPrice, "entry_price")
        try FractionRules.positive(quantity, "quantity")
        guard Rounding.quantity(quantity) > 0 else {
            throw DomainError.invalid("quantity", quantity, "must be at least 0.00000001")
        }
        try FractionRules.positive(leverage, "leverage")
        try FractionRules.positive(markPrice, "mark_price")
        guard feeRate.isFinite, feeRate >= 0, feeRate < 0.01 else {
            throw DomainError.invalid("fee_rate", feeRate, "must be a fraction between 0 and 0.01 (0.0004 = 0.04 %)")
        }
        try context.validate()
    }
}
