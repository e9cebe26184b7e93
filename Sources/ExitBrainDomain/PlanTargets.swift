/// The targets the planner derives from an input's context before choosing a strategy
/// (docs/exit-rules.md "Targets"): defaults, hint confidence, risk-mode and regime multipliers, clamps.
public struct PlanTargets: Sendable, Equatable {
    /// Effective confidence (the hint's, or 0.75).
    public var confidence: Double
    /// Whether the hint values were used (confidence ≥ 0.5).
    public var hintsUsed: Bool
    /// Effective risk mode (`NORMAL` when absent).
    public var riskMode: RiskMode
    /// Effective regime (given or inferred).
    public var regime: MarketRegime
    /// Effective volatility (0.02 when absent).
    public var volatility: Double
    /// TP target after multipliers, clamped to 0.015–0.15.
    public var takeProfitPct: Double
    /// SL distance after multipliers, clamped to 0.01–0.05.
    public var stopLossPct: Double
    /// Trailing callback from a usable hint, if any.
    public var trailCallbackPct: Double?
    /// ATR fraction from the market data, if any.
    public var atrPct: Double?
    /// Price move from entry to mark in the position's favour (a signed fraction).
    public var favourableMove: Double
    /// Unrealized PnL on margin: `favourableMove × leverage`.
    public var pnlOnMargin: Double

    /// Confidence assumed when the hints carry none.
    public static let defaultConfidence = 0.75
    /// TP target when no usable hint gives one.
    public static let defaultTakeProfitPct = 0.03
    /// SL distance when neither a usable hint nor `max_loss_pct` gives one.
    public static let defaultStopLossPct = 0.025
    /// Volatility assumed when the market data carries none.
    public static let defaultVolatility = 0.02
    /// Hints with a confidence below this are ignored.
    public static let minimumHintConfidence = 0.5

    /// Derives the targets of an input (the input is expected to be validated).
    public init(_ input: PlannerInput) {
        let hints = input.context.rlHints
        confidence = hints?.confidence ?? Self.defaultConfidence
        hintsUsed = confidence >= Self.minimumHintConfidence
        riskMode = input.context.riskContext?.riskMode ?? .normal
        let market = input.context.marketData
        volatility = market?.volatility ?? Self.defaultVolatility
        regime = market?.regime ?? Self.inferRegime(volatility: volatility, trendStrength: market?.trendStrength ?? 0)
        atrPct = market?.atrPct
        trailCallbackPct = hintsUsed ? hints?.trailCallbackPct : nil

        let tp = (hintsUsed ? hints?.tpTargetPct : nil) ?? Self.defaultTakeProfitPct
        let sl = (hintsUsed ? hints?.slTargetPct : nil) ?? input.context.riskContext?.maxLossPct ?? Self.defaultStopLossPct
        let risk = Self.riskMultiplier(riskMode)
        let (regimeTP, regimeSL, _) = Self.regimeMultipliers(regime)
        takeProfitPct = Rounding.fraction(min(max(tp * risk * regimeTP, 0.015), 0.15))
        stopLossPct = Rounding.fraction(min(max(sl * risk * regimeSL, 0.01), 0.05))

        favourableMove = (input.markPrice - input.entryPrice) / input.entryPrice * input.side.sign
        pnlOnMargin = favourableMove * input.leverage
    }

    /// Regime when the signal gives none: volatility > 0.04 → VOLATILE; |trend| > 0.6 → TRENDING;
    /// volatility < 0.015 → RANGE_BOUND; else NORMAL.
    public static func inferRegime(volatility: Double, trendStrength: Double) -> MarketRegime {
        if volatility > 0.04 { return .volatile }
        if abs(trendStrength) > 0.6 { return .trending }
        if volatility < 0.015 { return .rangeBound }
        return .normal
    }

    /// Multiplier on TP and SL: NORMAL 1.0, CONSERVATIVE 0.7, CRITICAL 0.5, ESS_ACTIVE 0.3.
    public static func riskMultiplier(_ mode: RiskMode) -> Double {
        switch mode {
        case .normal: 1.0
        case .conservative: 0.7
        case .critical: 0.5
        case .essActive: 0.3
        }
    }

    /// TP multiplier, SL multiplier and whether trailing is allowed, per regime.
    public static func regimeMultipliers(_ regime: MarketRegime) -> (takeProfit: Double, stopLoss: Double, trailingAllowed: Bool) {
        switch regime {
        case .normal: (1.0, 1.0, true)
        case .volatile: (1.3, 1.5, false)
        case .trending: (1.5, 0.8, true)
        case .rangeBound: (0.8, 1.2, false)
        }
    }
}
