import Foundation

/// The exit plan of one position (docs/contract.md §5). Its only home is the plan hash; every change
/// bumps `version` by one and is written with a compare-and-set on it.
public struct ExitPlan: Codable, Sendable, Equatable {
    /// Unique id of the plan; kept when the plan is re-planned after adding to the position.
    public var planId: String
    /// The instrument.
    public var symbol: String
    /// The position side.
    public var side: PositionSide
    /// `ACTIVE` until nothing remains.
    public var status: PlanStatus
    /// Starts at 1; +1 for every evaluation or re-plan that changed the plan.
    public var version: Int
    /// The strategy the planner chose.
    public var strategyId: StrategyID
    /// The exit profile the plan was made under.
    public var profile: ExitProfile
    /// Who created the plan.
    public var source: PlanSource
    /// Average entry price of the position.
    public var entryPrice: Double
    /// Position quantity the plan was made for; TP sizes are fractions of it.
    public var initialQuantity: Double
    /// Quantity not yet closed by a filled leg.
    public var remainingQuantity: Double
    /// Leverage of the position.
    public var leverage: Double
    /// When the plan was first created.
    public var createdAt: Date
    /// When the plan last changed.
    public var updatedAt: Date
    /// Effective confidence of the hints (0.75 when none was given).
    public var confidence: Double
    /// The regime the plan was made for (given or inferred).
    public var marketRegime: MarketRegime
    /// The signal context the plan was made from.
    public var context: PlanContext
    /// Exit legs: TPs in order, then the SL, then TRAIL or EMERGENCY.
    public var legs: [ExitLeg]
    /// Trailing stop state.
    public var trailing: TrailingState
    /// Why the plan closed; `nil` while active.
    public var closedReason: ClosedReason?
    /// CHALLENGE_100 only: after this instant, if TP1 has not filled, everything is closed.
    public var timeStopAt: Date?

    /// Creates a plan from all its fields.
    public init(
        planId: String, symbol: String, side: PositionSide, status: PlanStatus, version: Int,
        strategyId: StrategyID, profile: ExitProfile, source: PlanSource, entryPrice: Double,
        initialQuantity: Double, remainingQuantity: Double, leverage: Double, createdAt: Date,
        updatedAt: Date, confidence: Double, marketRegime: MarketRegime, context: PlanContext,
        legs: [ExitLeg], trailing: TrailingState, closedReason: ClosedReason?, timeStopAt: Date? = nil
    ) {
        self.planId = planId
        self.symbol = symbol
        self.side = side
        self.status = status
        self.version = version
        self.strategyId = strategyId
        self.profile = profile
        self.source = source
        self.entryPrice = entryPrice
        self.initialQuantity = initialQuantity
        self.remainingQuantity = remainingQuantity
        self.leverage = leverage
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.confidence = confidence
        self.marketRegime = marketRegime
        self.context = context
        self.legs = legs
        self.trailing = trailing
        self.closedReason = closedReason
        self.timeStopAt = timeStopAt
    }

    /// `SYMBOL:SIDE`, the plan's field in the plan hash.
    public var key: PositionKey { PositionKey(symbol: symbol, side: side) }

    /// True while the plan still watches prices.
    public var isActive: Bool { status == .active }

    /// The stop-loss leg, if the plan has one.
    public var stopLossLeg: ExitLeg? { legs.first { $0.kind == .stopLoss } }

    /// Sum of the quantities of filled legs.
    public var filledQuantity: Double {
        legs.reduce(0) { $1.status == .filled ? Rounding.quantity($0 + $1.quantity) : $0 }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case planId = "plan_id"
        case symbol, side, status, version
        case strategyId = "strategy_id"
        case profile, source
        case entryPrice = "entry_price"
        case initialQuantity = "initial_quantity"
        case remainingQuantity = "remaining_quantity"
        case leverage
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case confidence
        case marketRegime = "market_regime"
        case context, legs, trailing
        case closedReason = "closed_reason"
        case timeStopAt = "time_stop_at"
    }

    /// Decodes a plan and checks it is coherent (positive prices, quantities within the initial one).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        planId = try c.require(String.self, .planId)
        symbol = try c.require(String.self, .symbol)
        side = try c.require(PositionSide.self, .side)
        status = try c.require(PlanStatus.self, .status)
        version = try c.require(Int.self, .version)
        strategyId = try c.require(StrategyID.self, .strategyId)
        profile = try c.require(ExitProfile.self, .profile)
        source = try c.require(PlanSource.self, .source)
        entryPrice = try c.require(Double.self, .entryPrice)
        initialQuantity = try c.require(Double.self, .initialQuantity)
        remainingQuantity = try c.require(Double.self, .remainingQuantity)
        leverage = try c.require(Double.self, .leverage)
        guard c.contains(.createdAt) else { throw DomainError.missing("created_at") }
        createdAt = try c.decodeTimestamp(forKey: .createdAt)
        guard c.contains(.updatedAt) else { throw DomainError.missing("updated_at") }
        updatedAt = try c.decodeTimestamp(forKey: .updatedAt)
        confidence = try c.require(Double.self, .confidence)
        marketRegime = try c.require(MarketRegime.self, .marketRegime)
        context = try c.decodeIfPresent(PlanContext.self, forKey: .context) ?? PlanContext()
        legs = try c.require([ExitLeg].self, .legs)
        trailing = try c.require(TrailingState.self, .trailing)
        closedReason = try c.decodeIfPresent(ClosedReason.self, forKey: .closedReason)
        timeStopAt = try c.decodeTimestampIfPresent(forKey: .timeStopAt)
        try validate()
    }

    /// Encodes every field in contract order; `closed_reason` is `null` while active and
    /// `time_stop_at` is written only when set.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(planId, forKey: .planId)
        try c.encode(symbol, forKey: .symbol)
        try c.encode(side, forKey: .side)
        try c.encode(status, forKey: .status)
        try c.encode(version, forKey: .version)
        try c.encode(strategyId, forKey: .strategyId)
        try c.encode(profile, forKey: .profile)
        try c.encode(source, forKey: .source)
        try c.encode(entryPrice, forKey: .entryPrice)
        try c.encode(initialQuantity, forKey: .initialQuantity)
        try c.encode(remainingQuantity, forKey: .remainingQuantity)
        try c.encode(leverage, forKey: .leverage)
        try c.encodeTimestamp(createdAt, forKey: .createdAt)
        try c.encodeTimestamp(updatedAt, forKey: .updatedAt)
        try c.encode(confidence, forKey: .confidence)
        try c.encode(marketRegime, forKey: .marketRegime)
        try c.encode(context, forKey: .context)
        try c.encode(legs, forKey: .legs)
        try c.encode(trailing, forKey: .trailing)
        try c.encode(closedReason, forKey: .closedReason)
        if let timeStopAt { try c.encodeTimestamp(timeStopAt, forKey: .timeStopAt) }
    }

    /// Checks the plan is coherent; throws ``DomainError`` naming the first problem.
    public func validate() throws(DomainError) {
        guard !planId.isEmpty else { throw DomainError(.invalidValue, "plan_id must not be empty") }
        guard !symbol.isEmpty else { throw DomainError(.invalidValue, "symbol must not be empty") }
        guard version >= 1 else { throw DomainError(.invalidValue, "version = \(version): must be ≥ 1") }
        try FractionRules.positive(entryPrice, "entry_price")
        try FractionRules.positive(initialQuantity, "initial_quantity")
        try FractionRules.positive(leverage, "leverage")
        guard remainingQuantity.isFinite, remainingQuantity >= 0, remainingQuantity <= initialQuantity + 1e-9 else {
            throw DomainError.invalid("remaining_quantity", remainingQuantity, "must be between 0 and initial_quantity \(initialQuantity)")
        }
        for (i, leg) in legs.enumerated() where leg.index != i {
            throw DomainError(.invalidValue, "legs[\(i)].index = \(leg.index): legs must be indexed 0..n in order")
        }
        if status == .closed, closedReason == nil {
            throw DomainError(.invalidValue, "closed_reason must be set when status is CLOSED")
        }
    }
}
