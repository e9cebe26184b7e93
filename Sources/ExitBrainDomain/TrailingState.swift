/// The trailing stop of a plan (docs/contract.md §5 `trailing`).
///
/// Armed once `bestPrice` is set: that happens when the price reaches `activationPrice`. From then
/// on `stopPrice = best × (1 − callback)` for LONG (`× (1 + callback)` for SHORT), and the plan's
/// SL moves there whenever that is tighter.
public struct TrailingState: Codable, Sendable, Equatable {
    /// Whether the plan trails at all.
    public var enabled: Bool
    /// Callback from the best price, a fraction (0 when no callback was configured).
    public var callbackPct: Double
    /// Price at which trailing arms; `nil` when disabled.
    public var activationPrice: Double?
    /// Best price seen since arming; `nil` until armed.
    public var bestPrice: Double?
    /// Current trailing stop; `nil` until armed.
    public var stopPrice: Double?

    /// Creates a trailing state.
    public init(enabled: Bool, callbackPct: Double, activationPrice: Double? = nil, bestPrice: Double? = nil, stopPrice: Double? = nil) {
        self.enabled = enabled
        self.callbackPct = callbackPct
        self.activationPrice = activationPrice
        self.bestPrice = bestPrice
        self.stopPrice = stopPrice
    }

    /// A disabled trailing state that records the configured callback (or 0).
    public static func disabled(callbackPct: Double? = nil) -> TrailingState {
        TrailingState(enabled: false, callbackPct: callbackPct ?? 0)
    }

    /// True once the price has reached the activation price.
    public var isArmed: Bool { enabled && bestPrice != nil }

    enum CodingKeys: String, CodingKey {
        case enabled
        case callbackPct = "callback_pct"
        case activationPrice = "activation_price"
        case bestPrice = "best_price"
        case stopPrice = "stop_price"
    }

    /// Decodes and checks the callback is a fraction in 0…1.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.require(Bool.self, .enabled)
        callbackPct = try c.require(Double.self, .callbackPct)
        activationPrice = try c.decodeIfPresent(Double.self, forKey: .activationPrice)
        bestPrice = try c.decodeIfPresent(Double.self, forKey: .bestPrice)
        stopPrice = try c.decodeIfPresent(Double.self, forKey: .stopPrice)
        try validate(path: pathText(decoder.codingPath))
    }

    /// The checks every decoded trailing state passes.
    func validate(path: String) throws(DomainError) {
        guard callbackPct.isFinite, callbackPct >= 0 else {
            throw DomainError.invalid("\(path).callback_pct", callbackPct, "must be a finite fraction ≥ 0")
        }
        guard callbackPct < 1 else {
            throw DomainError(.fractionExpected, "\(path).callback_pct = \(callbackPct): \(FractionRules.fractionHint)")
        }
    }

    /// Encodes in contract order; absent prices are written as JSON `null`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(enabled, forKey: .enabled)
        try c.encode(callbackPct, forKey: .callbackPct)
        try c.encode(activationPrice, forKey: .activationPrice)
        try c.encode(bestPrice, forKey: .bestPrice)
        try c.encode(stopPrice, forKey: .stopPrice)
    }
}
