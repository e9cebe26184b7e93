/// The legs of a plan under construction, one method per strategy of docs/exit-rules.md.
struct Draft {
    let planId: String
    let version: Int
    let side: PositionSide
    let entry: Double
    let quantity: Double
    let idStem: [UInt8]
    var legs: [ExitLeg] = []

    /// PnL on margin above which a position is profit-locked.
    static let profitLockThreshold = 0.10
    /// Distance of the PROFIT_LOCK stop, in the position's favour.
    static let profitLockStopPct = 0.002
    /// DEFAULT ladder: TP distances as multiples of the TP target.
    static let ladderMultiples = [0.5, 5.0 / 6.0, 4.0 / 3.0]
    /// CHALLENGE_100: share of TP1, trailing callback, time stop.
    static let challengeTakeProfitSize = 0.30
    static let challengeCallbackPct = 0.02
    static let challengeTimeStop: Double = 7200

    init(planId: String, version: Int, side: PositionSide, entry: Double, quantity: Double) {
        self.planId = planId
        self.version = version
        self.side = side
        self.entry = entry
        self.quantity = quantity
        self.idStem = ClientOrderID.stem(planId)
        legs.reserveCapacity(4)
    }

    func price(at pct: Double) -> Double {
        Rounding.price(entry * (1 + side.sign * pct))
    }

    mutating func add(_ kind: LegKind, pct: Double, size: Double, quantity: Double, triggerPrice: Double? = nil) {
        let index = legs.count
        let pct = Rounding.fraction(pct)
        legs.append(
            ExitLeg(
                index: index, kind: kind, triggerPct: pct, triggerPrice: triggerPrice ?? price(at: pct),
                sizePct: size, quantity: max(0, Rounding.quantity(quantity)), status: .pending,
                clientOrderId: ClientOrderID.make(stem: idStem, legIndex: index, version: version)
            ))
    }

    /// Take-profit legs of `sizes` of the initial quantity; the last takes what the others leave,
    /// so the TP quantities add up exactly to the initial quantity (docs/exit-rules.md defect 8).
    mutating func takeProfits(_ pcts: [Double], sizes: [Double]) {
        var assigned = 0.0
        for (i, pct) in pcts.enumerated() {
            let isLast = i == pcts.count - 1
            let qty = isLast ? Rounding.quantity(quantity - assigned) : Rounding.quantity(quantity * sizes[i])
            assigned = Rounding.quantity(assigned + qty)
            add(.takeProfit, pct: pct, size: sizes[i], quantity: qty)
        }
    }

    /// `EMERGENCY_EXIT`: one leg for everything, executed on the next evaluation.
    mutating func emergency(markPrice: Double, move: Double) {
        add(.emergency, pct: move, size: 1.0, quantity: quantity, triggerPrice: Rounding.price(markPrice))
    }

    /// `PROFIT_LOCK`: one TP for all at 1.5 × the current move, SL at +0.002 in the position's favour.
    mutating func profitLock(_ targets: PlanTargets) {
        var tpPct = 1.5 * targets.favourableMove
        if side == .short { tpPct = min(tpPct, 0.99) }  // a SHORT target must stay above zero
        takeProfits([tpPct], sizes: [1.0])
        add(.stopLoss, pct: Self.profitLockStopPct, size: 1.0, quantity: quantity)
    }

    /// `STANDARD_LADDER` under profile DEFAULT: three TPs from the dynamic ladder table, then the SL.
    /// Returns the trailing state (armed at TP2 when a callback is given and the regime allows).
    mutating func ladder(_ targets: PlanTargets, leverage: Double, notional: Double) -> TrailingState {
        let (factor, sizes) = Self.ladderAdjustments(targets, leverage: leverage, notional: notional)
        let pcts = Self.ladderMultiples.map { multiple in
            Rounding.fraction(min(max(targets.takeProfitPct * multiple * factor, 0.005), 0.10))
        }
        takeProfits(pcts, sizes: sizes)
        add(.stopLoss, pct: -targets.stopLossPct, size: 1.0, quantity: quantity)
        guard let callback = targets.trailCallbackPct, PlanTargets.regimeMultipliers(targets.regime).trailingAllowed else {
            return .disabled(callbackPct: targets.trailCallbackPct)
        }
        return TrailingState(enabled: true, callbackPct: Rounding.fraction(callback), activationPrice: legs[1].triggerPrice)
    }

    /// The distance factor and sizes of the DEFAULT ladder table. Rows apply in table order;
    /// when both the notional and the TRENDING row change the sizes, TRENDING's sizes win.
    static func ladderAdjustments(_ targets: PlanTargets, leverage: Double, notional: Double) -> (Double, [Double]) {
        var factor = 1.0
        var sizes = [0.30, 0.30, 0.40]
        if leverage >= 15 { factor *= 0.7 } else if leverage <= 5 { factor *= 1.3 }
        if notional >= 2000 {
            factor *= 0.8
            sizes = [0.40, 0.35, 0.25]
        }
        if targets.volatility >= 0.035 { factor *= 1.4 } else if targets.volatility <= 0.015 { factor *= 0.75 }
        switch targets.regime {
        case .trending:
            factor *= 1.5
            sizes = [0.20, 0.30, 0.50]
        case .volatile, .rangeBound:
            factor *= 0.7
        case .normal:
            break
        }
        if targets.confidence >= 0.85 { factor *= 1.3 } else if targets.confidence <= 0.6 { factor *= 0.75 }
        if targets.pnlOnMargin >= 0.05 { factor *= 0.8 }
        return (factor, sizes)
    }

    /// `CHALLENGE_100`: R = 2 × ATR (or the SL distance), clamped to the SL range 0.01–0.05;
    /// TP1 at +1 R for 30 %, SL at −1 R, a TRAIL leg for the 70 % runner armed at +1 R.
    mutating func challenge(_ targets: PlanTargets) -> TrailingState {
        let r = Rounding.fraction(min(max(targets.atrPct.map { 2 * $0 } ?? targets.stopLossPct, 0.01), 0.05))
        let tpQuantity = Rounding.quantity(quantity * Self.challengeTakeProfitSize)
        add(.takeProfit, pct: r, size: Self.challengeTakeProfitSize, quantity: tpQuantity)
        add(.stopLoss, pct: -r, size: 1.0, quantity: quantity)
        add(.trail, pct: r, size: Rounding.fraction(1 - Self.challengeTakeProfitSize), quantity: quantity - tpQuantity)
        return TrailingState(enabled: true, callbackPct: Self.challengeCallbackPct, activationPrice: legs[0].triggerPrice)
    }
}
