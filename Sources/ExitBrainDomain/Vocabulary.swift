// The words of the plan JSON (docs/contract.md §5) and of the signal context (docs/contract.md §6).
// Raw values are the JSON words; decoding an unknown word throws a `DomainError` listing the allowed ones.

/// The kind of an exit leg.
public enum LegKind: String, Codable, Sendable, CaseIterable {
    /// Take profit: closes its share when the price reaches the trigger in the position's favour.
    case takeProfit = "TP"
    /// Stop loss: closes everything that remains when the price reaches the trigger against the position.
    case stopLoss = "SL"
    /// Trailing runner: closed by the trailing stop once trailing is armed (CHALLENGE_100).
    case trail = "TRAIL"
    /// Emergency: closes everything at once.
    case emergency = "EMERGENCY"

    /// Decodes with a ``DomainError`` naming the allowed words.
    public init(from decoder: any Decoder) throws { self = try decodeWord(decoder, field: "kind") }
}

/// The status of an exit leg.
public enum LegStatus: String, Codable, Sendable, CaseIterable {
    /// Not executed yet.
    case pending = "PENDING"
    /// Executed; `filled_price` and `filled_at` are set.
    case filled = "FILLED"
    /// Will never execute (the plan closed through another leg).
    case cancelled = "CANCELLED"

    /// Decodes with a ``DomainError`` naming the allowed words.
    public init(from decoder: any Decoder) throws { self = try decodeWord(decoder, field: "status") }
}

/// The status of an exit plan.
public enum PlanStatus: String, Codable, Sendable, CaseIterable {
    /// The plan watches prices.
    case active = "ACTIVE"
    /// Nothing remains; `closed_reason` says why.
    case closed = "CLOSED"

    /// Decodes with a ``DomainError`` naming the allowed words.
    public init(from decoder: any Decoder) throws { self = try decodeWord(decoder, field: "status") }
}

/// Why a plan closed.
public enum ClosedReason: String, Codable, Sendable, CaseIterable {
    /// The stop loss (initial, breakeven or TP-locked) closed the rest.
    case stopLoss = "STOP_LOSS"
    /// The last take profit closed the rest.
    case takeProfit = "TAKE_PROFIT"
    /// A stop placed by the trailing logic closed the rest.
    case trailingStop = "TRAILING_STOP"
    /// The CHALLENGE_100 time stop: TP1 had not filled in time.
    case timeStop = "TIME_STOP"
    /// The emergency exit (risk mode `ESS_ACTIVE`).
    case emergency = "EMERGENCY"
    /// The position was closed outside the plan.
    case positionClosed = "POSITION_CLOSED"

    /// Decodes with a ``DomainError`` naming the allowed words.
    public init(from decoder: any Decoder) throws { self = try decodeWord(decoder, field: "closed_reason") }
}

/// Who created a plan.
public enum PlanSource: String, Codable, Sendable, CaseIterable {
    /// Created at entry by the execution service.
    case execution = "EXECUTION"
    /// Created by the monitor for a position that had no plan.
    case retroactive = "RETROACTIVE"

    /// Decodes with a ``DomainError`` naming the allowed words.
    public init(from decoder: any Decoder) throws { self = try decodeWord(decoder, field: "source") }
}

/// The exit profile (`EXIT_BRAIN_PROFILE`).
public enum ExitProfile: String, Codable, Sendable, CaseIterable {
    /// The dynamic ladder of docs/exit-rules.md.
    case `default` = "DEFAULT"
    /// One TP at 1 R, a trailing runner, breakeven after TP1 and a 2-hour time stop.
    case challenge100 = "CHALLENGE_100"

    /// Decodes with a ``DomainError`` naming the allowed words.
    public init(from decoder: any Decoder) throws { self = try decodeWord(decoder, field: "profile") }
}

/// The strategy a plan follows.
public enum StrategyID: String, Codable, Sendable, CaseIterable {
    /// Three take profits and a stop loss (profile DEFAULT).
    case standardLadder = "STANDARD_LADDER"
    /// Position already well in profit: stop just past entry, one take profit for all.
    case profitLock = "PROFIT_LOCK"
    /// Risk mode `ESS_ACTIVE`: close everything at once.
    case emergencyExit = "EMERGENCY_EXIT"
    /// Profile CHALLENGE_100.
    case challenge100 = "CHALLENGE_100"

    /// Decodes with a ``DomainError`` naming the allowed words.
    public init(from decoder: any Decoder) throws { self = try decodeWord(decoder, field: "strategy_id") }
}

/// The risk mode of the signal's risk context.
public enum RiskMode: String, Codable, Sendable, CaseIterable {
    /// Multiplier 1.0 on TP and SL targets.
    case normal = "NORMAL"
    /// Multiplier 0.7.
    case conservative = "CONSERVATIVE"
    /// Multiplier 0.5.
    case critical = "CRITICAL"
    /// Emergency stop system active: the plan is an immediate emergency exit.
    case essActive = "ESS_ACTIVE"

    /// Decodes with a ``DomainError`` naming the allowed words.
    public init(from decoder: any Decoder) throws { self = try decodeWord(decoder, field: "risk_mode") }
}

/// The market regime, given by the signal or inferred from volatility and trend.
public enum MarketRegime: String, Codable, Sendable, CaseIterable {
    /// TP/SL multipliers 1.0/1.0, trailing allowed.
    case normal = "NORMAL"
    /// TP/SL multipliers 1.3/1.5, no trailing.
    case volatile = "VOLATILE"
    /// TP/SL multipliers 1.5/0.8, trailing allowed.
    case trending = "TRENDING"
    /// TP/SL multipliers 0.8/1.2, no trailing.
    case rangeBound = "RANGE_BOUND"

    /// Decodes with a ``DomainError`` naming the allowed words.
    public init(from decoder: any Decoder) throws { self = try decodeWord(decoder, field: "regime") }
}

/// What an order is for.
public enum OrderPurpose: String, Codable, Sendable, CaseIterable {
    /// Opens or adds to a position.
    case entry = "ENTRY"
    /// Reduces or closes a position (always reduce-only).
    case exit = "EXIT"
}
