import Foundation

/// Exit hints from the signal's strategy model (`rl_hints` of `trade.signal`).
///
/// Decoding rejects keys other than the four below (docs/exit-rules.md defect 4) and validates
/// units: `_pct` values are fractions in (0, 1), `confidence` is in 0…1.
public struct RLHints: Codable, Sendable, Equatable {
    /// Take-profit target distance, a fraction of the entry price (`tp_target_pct`).
    public var tpTargetPct: Double?
    /// Stop-loss distance, a fraction of the entry price (`sl_target_pct`).
    public var slTargetPct: Double?
    /// Trailing callback, a fraction of the best price (`trail_callback_pct`); enables trailing.
    public var trailCallbackPct: Double?
    /// Confidence of the model in 0…1; hints with confidence below 0.5 are ignored (0.75 when absent).
    public var confidence: Double?

    /// Creates hints; call ``validate()`` (the planner does) to check units.
    public init(tpTargetPct: Double? = nil, slTargetPct: Double? = nil, trailCallbackPct: Double? = nil, confidence: Double? = nil) {
        self.tpTargetPct = tpTargetPct
        self.slTargetPct = slTargetPct
        self.trailCallbackPct = trailCallbackPct
        self.confidence = confidence
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case tpTargetPct = "tp_target_pct"
        case slTargetPct = "sl_target_pct"
        case trailCallbackPct = "trail_callback_pct"
        case confidence
    }

    /// Decodes strictly: unknown keys and out-of-range values throw ``DomainError``.
    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue), object: "rl_hints")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tpTargetPct = try c.decodeIfPresent(Double.self, forKey: .tpTargetPct)
        slTargetPct = try c.decodeIfPresent(Double.self, forKey: .slTargetPct)
        trailCallbackPct = try c.decodeIfPresent(Double.self, forKey: .trailCallbackPct)
        confidence = try c.decodeIfPresent(Double.self, forKey: .confidence)
        try validate(path: pathText(decoder.codingPath).isEmpty ? "rl_hints" : pathText(decoder.codingPath))
    }

    /// Encodes the present fields in contract order; absent fields are omitted.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(tpTargetPct, forKey: .tpTargetPct)
        try c.encodeIfPresent(slTargetPct, forKey: .slTargetPct)
        try c.encodeIfPresent(trailCallbackPct, forKey: .trailCallbackPct)
        try c.encodeIfPresent(confidence, forKey: .confidence)
    }

    /// Checks units and ranges; throws ``DomainError`` naming the field.
    public func validate() throws(DomainError) { try validate(path: "rl_hints") }

    func validate(path: String) throws(DomainError) {
        try FractionRules.positiveFraction(tpTargetPct, "\(path).tp_target_pct")
        try FractionRules.positiveFraction(slTargetPct, "\(path).sl_target_pct")
        try FractionRules.positiveFraction(trailCallbackPct, "\(path).trail_callback_pct")
        try FractionRules.inRange(confidence, "\(path).confidence", 0...1)
    }
}

/// The risk state of the account when the signal was sent (`risk_context`).
public struct RiskContext: Codable, Sendable, Equatable {
    /// Risk mode; `NORMAL` when absent. `ESS_ACTIVE` makes the plan an emergency exit.
    public var riskMode: RiskMode?
    /// Largest acceptable loss as a fraction of entry, the SL fallback when no SL hint is usable (0.025 when absent).
    public var maxLossPct: Double?

    /// Creates a risk context; call ``validate()`` (the planner does) to check units.
    public init(riskMode: RiskMode? = nil, maxLossPct: Double? = nil) {
        self.riskMode = riskMode
        self.maxLossPct = maxLossPct
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case riskMode = "risk_mode"
        case maxLossPct = "max_loss_pct"
    }

    /// Decodes strictly: unknown keys, unknown modes and out-of-range values throw ``DomainError``.
    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue), object: "risk_context")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        riskMode = try c.decodeIfPresent(RiskMode.self, forKey: .riskMode)
        maxLossPct = try c.decodeIfPresent(Double.self, forKey: .maxLossPct)
        try validate(path: pathText(decoder.codingPath).isEmpty ? "risk_context" : pathText(decoder.codingPath))
    }

    /// Encodes the present fields in contract order; absent fields are omitted.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(riskMode, forKey: .riskMode)
        try c.encodeIfPresent(maxLossPct, forKey: .maxLossPct)
    }

    /// Checks units and ranges; throws ``DomainError`` naming the field.
    public func validate() throws(DomainError) { try validate(path: "risk_context") }

    func validate(path: String) throws(DomainError) {
        try FractionRules.positiveFraction(maxLossPct, "\(path).max_loss_pct")
    }
}

/// Market conditions when the signal was sent (`market_data`).
public struct MarketData: Codable, Sendable, Equatable {
    /// Recent volatility as a fraction, finite and ≥ 0 (0.02 when absent).
    public var volatility: Double?
    /// Trend strength in -1…1 (0 when absent).
    public var trendStrength: Double?
    /// The regime; inferred from volatility and trend when absent.
    public var regime: MarketRegime?
    /// Average true range as a fraction of price; sets R = 2 × ATR in CHALLENGE_100.
    public var atrPct: Double?

    /// Creates market data; call ``validate()`` (the planner does) to check units.
    public init(volatility: Double? = nil, trendStrength: Double? = nil, regime: MarketRegime? = nil, atrPct: Double? = nil) {
        self.volatility = volatility
        self.trendStrength = trendStrength
        self.regime = regime
        self.atrPct = atrPct
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case volatility
        case trendStrength = "trend_strength"
        case regime
        case atrPct = "atr_pct"
    }

    /// Decodes strictly: unknown keys, unknown regimes and out-of-range values throw ``DomainError``.
    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue), object: "market_data")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        volatility = try c.decodeIfPresent(Double.self, forKey: .volatility)
        trendStrength = try c.decodeIfPresent(Double.self, forKey: .trendStrength)
        regime = try c.decodeIfPresent(MarketRegime.self, forKey: .regime)
        atrPct = try c.decodeIfPresent(Double.self, forKey: .atrPct)
        try validate(path: pathText(decoder.codingPath).isEmpty ? "market_data" : pathText(decoder.codingPath))
    }

    /// Encodes the present fields in contract order; absent fields are omitted.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(volatility, forKey: .volatility)
        try c.encodeIfPresent(trendStrength, forKey: .trendStrength)
        try c.encodeIfPresent(regime, forKey: .regime)
        try c.encodeIfPresent(atrPct, forKey: .atrPct)
    }

    /// Checks units and ranges; throws ``DomainError`` naming the field.
    public func validate() throws(DomainError) { try validate(path: "market_data") }

    func validate(path: String) throws(DomainError) {
        if let volatility, !(volatility.isFinite && volatility >= 0) {
            throw .invalid("\(path).volatility", volatility, "must be a finite number ≥ 0")
        }
        try FractionRules.inRange(trendStrength, "\(path).trend_strength", -1...1)
        try FractionRules.positiveFraction(atrPct, "\(path).atr_pct")
    }
}

/// Everything the signal said about how to exit: the `context` object of a plan.
public struct PlanContext: Codable, Sendable, Equatable {
    /// Hints from the strategy model.
    public var rlHints: RLHints?
    /// Risk state of the account.
    public var riskContext: RiskContext?
    /// Market conditions.
    public var marketData: MarketData?

    /// Creates a context; every part is optional.
    public init(rlHints: RLHints? = nil, riskContext: RiskContext? = nil, marketData: MarketData? = nil) {
        self.rlHints = rlHints
        self.riskContext = riskContext
        self.marketData = marketData
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case rlHints = "rl_hints"
        case riskContext = "risk_context"
        case marketData = "market_data"
    }

    /// Decodes strictly: unknown keys at any level throw ``DomainError``.
    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue), object: "context")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rlHints = try c.decodeIfPresent(RLHints.self, forKey: .rlHints)
        riskContext = try c.decodeIfPresent(RiskContext.self, forKey: .riskContext)
        marketData = try c.decodeIfPresent(MarketData.self, forKey: .marketData)
    }

    /// Encodes the parts that are present, in contract order (`rl_hints`, `risk_context`, `market_data`).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(rlHints, forKey: .rlHints)
        try c.encodeIfPresent(riskContext, forKey: .riskContext)
        try c.encodeIfPresent(marketData, forKey: .marketData)
    }

    /// Validates every part; throws ``DomainError`` naming the field.
    public func validate() throws(DomainError) {
        try rlHints?.validate(path: "rl_hints")
        try riskContext?.validate(path: "risk_context")
        try marketData?.validate(path: "market_data")
    }
}
