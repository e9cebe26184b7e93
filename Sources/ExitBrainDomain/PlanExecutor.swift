import Foundation

/// The executor's state machine (docs/contract.md §9, docs/exit-rules.md executor rules). Pure: price and
/// time come in, decisions and the next plan go out.
///
/// On each price, in order: a pending EMERGENCY leg closes everything; else the SL (closes all
/// that remains); else every TP whose trigger the price crossed, in index order; then the stop
/// moves (breakeven after TP1, TP1's price after TP2); then the time stop; then trailing.
/// A stop only ever tightens.
public struct PlanExecutor: Sendable {
    /// Fee per side as a fraction: breakeven is `entry × (1 ± 2 × feeRate)`, PnL is net of it.
    public let feeRate: Double

    /// Creates an executor.
    public init(feeRate: Double = 0.0004) {
        self.feeRate = feeRate
    }

    /// Evaluates a plan at `price` and `now`.
    ///
    /// Live: the returned plan has its fired legs FILLED (`filled_price = price`, `filled_at = now`),
    /// moved stops, version + 1 and `updated_at = now` when anything changed. Shadow: the same
    /// decisions marked `shadow`, the plan returned unchanged. A closed plan, or a price that is
    /// not finite and positive, gives no decisions and no change.
    ///
    /// `restingExits`: the SL and the TPs rest at the venue (docs/contract.md §11 `EXIT_ORDERS=VENUE`),
    /// so a crossed level is the venue's to fill and reported through ``applyFill(plan:legIndex:quantity:averagePrice:complete:now:)``;
    /// the price still moves the trailing stop, and the time stop and an emergency still exit at market.
    ///
    /// `lot`: the venue's quantity step for market orders (0: none). A take-profit fired at market
    /// exits its quantity rounded down to it, and the plan records what leaves, so the plan's
    /// fills add up to the venue's; a remainder under one lot goes with it.
    public func evaluate(
        plan: ExitPlan, price: Double, now: Date, mode: ExecutionMode, restingExits: Bool = false, lot: Double = 0
    ) -> Evaluation {
        guard plan.status == .active, price.isFinite, price > 0, plan.remainingQuantity > 0 else {
            return Evaluation(decisions: [], plan: plan, changes: [], closedReason: nil)
        }
        guard ExecutionStep.hasWork(plan, price: price, now: now) else {
            return Evaluation(decisions: [], plan: plan, changes: [], closedReason: nil)
        }
        var step = ExecutionStep(plan: plan, price: price, now: now, shadow: mode == .shadow, feeRate: feeRate, lot: lot)
        step.run(restingExits: restingExits)
        if mode == .shadow || step.changes.isEmpty {
            return Evaluation(decisions: step.decisions, plan: plan, changes: [], closedReason: nil)
        }
        var next = step.plan
        next.version = plan.version + 1
        next.updatedAt = step.now
        return Evaluation(decisions: step.decisions, plan: next, changes: step.changes, closedReason: step.closedReason)
    }

    /// A fill the venue reported for leg `legIndex`: `quantity` more of it filled (the increment,
    /// not the order's cumulative), the order's average price so far `averagePrice`; `complete`
    /// when the leg's order is filled.
    ///
    /// The remaining quantity goes down by exactly the increment. A completed TP moves the stop
    /// (breakeven after the first, the first TP's price after the second) and re-sizes it to what
    /// remains. The plan closes when nothing remains: a remainder under one `lot` (the venue's
    /// step, which no order can close) is nothing. A stop's order that completes with
    /// more remaining (it was sized before an add) leaves the stop pending for what remains. A
    /// fill for a leg that is not pending, or of nothing, changes nothing.
    public func applyFill(
        plan: ExitPlan, legIndex: Int, quantity: Double, averagePrice: Double, complete: Bool, lot: Double = 0, now: Date
    ) -> Evaluation {
        var step = ExecutionStep(plan: plan, price: averagePrice, now: now, shadow: false, feeRate: feeRate, lot: lot)
        step.recordFill(legIndex, increment: quantity, complete: complete)
        guard !step.changes.isEmpty else { return Evaluation(decisions: [], plan: plan, changes: [], closedReason: nil) }
        var next = step.plan
        next.version = plan.version + 1
        next.updatedAt = step.now
        return Evaluation(decisions: [], plan: next, changes: step.changes, closedReason: step.closedReason)
    }

    /// The stop-loss price after the first TP: entry plus round-trip fees, in the position's favour.
    public func breakevenPrice(entry: Double, side: PositionSide) -> Double {
        Rounding.price(entry * (1 + side.sign * 2 * feeRate))
    }

    /// Realized PnL of the filled legs in quote currency, net of fees at ``feeRate`` on the entry
    /// and exit notional of the closed quantity.
    public func realizedPnl(plan: ExitPlan) -> Double {
        var pnl = 0.0
        for leg in plan.legs where leg.status == .filled {
            guard let fill = leg.filledPrice else { continue }
            let qty = leg.quantity
            pnl += (fill - plan.entryPrice) * qty * plan.side.sign
            pnl -= feeRate * (plan.entryPrice * qty + fill * qty)
        }
        return pnl
    }

    /// Closes a plan without an exit order (e.g. `POSITION_CLOSED`: the position went away
    /// outside the plan): pending legs CANCELLED, status CLOSED, version + 1. A closed plan is returned as is.
    public func close(plan: ExitPlan, reason: ClosedReason, now: Date) -> ExitPlan {
        guard plan.isActive else { return plan }
        var next = plan
        for i in next.legs.indices where next.legs[i].status == .pending {
            next.legs[i].status = .cancelled
        }
        next.status = .closed
        next.closedReason = reason
        next.version += 1
        next.updatedAt = Timestamp.normalize(now)
        return next
    }
}

/// One evaluation in progress: a working copy of the plan plus what happened to it.
struct ExecutionStep {
    var plan: ExitPlan
    let price: Double
    let now: Date
    let shadow: Bool
    let feeRate: Double
    let newVersion: Int
    /// The venue's quantity step (0: none).
    let lot: Double
    /// Less than one lot: no order can close it, so it is nothing.
    var dust: Double { lot * 0.999_999 }
    var decisions: [ExitDecision] = []
    var changes: [PlanChange] = []
    var closedReason: ClosedReason?

    init(plan: ExitPlan, price: Double, now: Date, shadow: Bool, feeRate: Double, lot: Double = 0) {
        self.plan = plan
        self.lot = lot.isFinite && lot > 0 ? lot : 0
        self.price = price
        self.now = Timestamp.normalize(now)
        self.shadow = shadow
        self.feeRate = feeRate
        self.newVersion = plan.version + 1
    }

    private var sign: Double { plan.side.sign }

    /// Read-only pre-check: would this price (or time) fire, move or arm anything? Most ticks
    /// do nothing, and this answers without copying the plan.
    static func hasWork(_ plan: ExitPlan, price: Double, now: Date) -> Bool {
        let long = plan.side == .long
        var firstTakeProfitPending: Bool?
        var hasCloser = false
        let fires = plan.legs.withUnsafeBufferPointer { legs -> Bool in
            for i in legs.indices {
                let kind = legs[i].kind
                let pending = legs[i].status == .pending
                if kind == .takeProfit, firstTakeProfitPending == nil { firstTakeProfitPending = pending }
                guard pending else { continue }
                let trigger = legs[i].triggerPrice
                switch kind {
                case .emergency:
                    return true
                case .stopLoss:
                    if long ? price <= trigger : price >= trigger { return true }
                    hasCloser = true
                case .takeProfit:
                    if long ? price >= trigger : price <= trigger { return true }
                case .trail:
                    hasCloser = true
                }
            }
            return false
        }
        if fires { return true }
        if let timeStopAt = plan.timeStopAt, firstTakeProfitPending == true, hasCloser,
            Timestamp.normalize(now) >= timeStopAt
        {
            return true
        }
        let trailing = plan.trailing
        guard trailing.enabled, let activation = trailing.activationPrice else { return false }
        let mark = trailing.bestPrice ?? activation
        if trailing.bestPrice == nil {
            return long ? price >= mark : price <= mark
        }
        return long ? price > mark : price < mark
    }

    /// The price reached a target in the position's favour.
    private func reached(_ trigger: Double) -> Bool { sign > 0 ? price >= trigger : price <= trigger }

    /// The price reached a stop against the position.
    private func hitStop(_ trigger: Double) -> Bool { sign > 0 ? price <= trigger : price >= trigger }

    /// `candidate` is a tighter stop than `current` (closer to the price, in the position's favour).
    private func tighter(_ candidate: Double, than current: Double) -> Bool {
        sign > 0 ? candidate > current : candidate < current
    }

    private func pendingIndex(_ kind: LegKind) -> Int? {
        plan.legs.firstIndex { $0.kind == kind && $0.status == .pending }
    }

    mutating func run(restingExits: Bool = false) {
        if let emergency = pendingIndex(.emergency) {
            closeAll(via: emergency, reason: .emergency)
            return
        }
        let stopIndex = pendingIndex(.stopLoss)
        if !restingExits, let stopIndex, hitStop(plan.legs[stopIndex].triggerPrice) {
            let byTrailing = plan.trailing.isArmed && plan.trailing.stopPrice == plan.legs[stopIndex].triggerPrice
            if byTrailing, let runner = pendingIndex(.trail) {
                closeAll(via: runner, reason: .trailingStop)
            } else {
                closeAll(via: stopIndex, reason: byTrailing ? .trailingStop : .stopLoss)
            }
            return
        }
        if !restingExits, fillCrossedTakeProfits() { return }
        if let timeStopAt = plan.timeStopAt, now >= timeStopAt, firstTakeProfitPending,
            let vehicle = stopIndex ?? pendingIndex(.trail)
        {
            closeAll(via: vehicle, reason: .timeStop)
            return
        }
        followTrailing()
    }

    private var firstTakeProfitPending: Bool {
        plan.legs.first { $0.kind == .takeProfit }?.status == .pending
    }

    private mutating func note(_ change: PlanChange) {
        if !changes.contains(change) { changes.append(change) }
    }

    private mutating func decide(_ index: Int, quantity: Double, reason: ClosedReason?) {
        let leg = plan.legs[index]
        decisions.append(
            ExitDecision(
                key: plan.key, planId: plan.planId, legIndex: index, kind: leg.kind,
                orderSide: plan.side.exitOrderSide, quantity: quantity, triggerPrice: leg.triggerPrice,
                price: price, clientOrderId: leg.clientOrderId, reduceOnly: true, shadow: shadow, reason: reason
            ))
    }

    private mutating func markFilled(_ index: Int, quantity: Double) {
        plan.legs[index].status = .filled
        plan.legs[index].quantity = quantity
        plan.legs[index].filledPrice = price
        plan.legs[index].filledAt = now
        note(.legFilled)
    }

    /// Fires leg `index` for everything that remains and closes the plan.
    private mutating func closeAll(via index: Int, reason: ClosedReason) {
        let quantity = plan.remainingQuantity
        decide(index, quantity: quantity, reason: reason)
        markFilled(index, quantity: quantity)
        finish(reason)
    }

    private mutating func finish(_ reason: ClosedReason) {
        for i in plan.legs.indices where plan.legs[i].status == .pending {
            plan.legs[i].status = .cancelled
        }
        plan.remainingQuantity = 0
        plan.status = .closed
        plan.closedReason = reason
        closedReason = reason
    }

    /// Fills every TP the price has crossed, in index order (a gap fires several at once).
    /// Returns true when the plan closed.
    private mutating func fillCrossedTakeProfits() -> Bool {
        var filledAny = false
        for i in plan.legs.indices {
            let leg = plan.legs[i]
            guard leg.kind == .takeProfit, leg.status == .pending, reached(leg.triggerPrice) else { continue }
            var quantity = inLots(min(leg.quantity, plan.remainingQuantity))
            var remaining = max(0, Rounding.quantity(plan.remainingQuantity - quantity))
            if remaining < dust {
                // Less than a lot left could never leave on its own: this exit takes it.
                quantity = plan.remainingQuantity
                remaining = 0
            }
            let closes = remaining <= 0
            if quantity > 0 { decide(i, quantity: quantity, reason: closes ? .takeProfit : nil) }
            markFilled(i, quantity: quantity)
            plan.remainingQuantity = remaining
            filledAny = true
            if closes {
                finish(.takeProfit)
                return true
            }
        }
        guard filledAny else { return false }
        afterTakeProfitFills()
        return false
    }

    /// `quantity` rounded down to whole lots (as is without a lot).
    private func inLots(_ quantity: Double) -> Double {
        guard lot > 0 else { return quantity }
        return Rounding.quantity((quantity / lot + 1e-6).rounded(.down) * lot)
    }

    /// After TPs filled: the stop covers what remains (a new order id when that changed) and
    /// moves to breakeven after the first TP, to the first TP's price after the second.
    private mutating func afterTakeProfitFills() {
        if let stopIndex = pendingIndex(.stopLoss) {
            if plan.legs[stopIndex].quantity != plan.remainingQuantity {
                plan.legs[stopIndex].quantity = plan.remainingQuantity
                plan.legs[stopIndex].clientOrderId = ClientOrderID.make(planId: plan.planId, legIndex: stopIndex, version: newVersion)
            }
            let takeProfits = plan.legs.filter { $0.kind == .takeProfit }
            let filled = takeProfits.reduce(0) { $1.status == .filled ? $0 + 1 : $0 }
            if filled >= 2, let first = takeProfits.first {
                moveStop(stopIndex, to: first.triggerPrice)
            } else if filled >= 1 {
                moveStop(stopIndex, to: Rounding.price(plan.entryPrice * (1 + sign * 2 * feeRate)))
            }
        }
    }

    /// Records a venue's fill of leg `index` (see ``PlanExecutor/applyFill(plan:legIndex:quantity:averagePrice:complete:now:)``).
    mutating func recordFill(_ index: Int, increment: Double, complete: Bool) {
        guard plan.status == .active, plan.legs.indices.contains(index), plan.legs[index].status == .pending else { return }
        guard increment.isFinite, increment > 0 || complete else { return }
        let leg = plan.legs[index]
        let before = leg.filledQuantity ?? 0
        let filled = Rounding.quantity(before + max(0, increment))
        if increment > 0 {
            // The order's average over all its fills, as the venue reports it.
            plan.legs[index].filledPrice = price
            plan.legs[index].filledQuantity = filled
            plan.remainingQuantity = max(0, Rounding.quantity(plan.remainingQuantity - increment))
            if plan.remainingQuantity <= dust { plan.remainingQuantity = 0 }
        }
        note(.legFilled)
        let done = complete || plan.remainingQuantity <= 0
        switch leg.kind {
        case .takeProfit:
            if done {
                plan.legs[index].status = .filled
                plan.legs[index].quantity = filled
                plan.legs[index].filledAt = now
            }
            if plan.remainingQuantity <= 0 {
                finish(.takeProfit)
            } else if done {
                afterTakeProfitFills()
            }
        case .stopLoss, .trail, .emergency:
            guard plan.remainingQuantity <= 0 else { return }
            plan.legs[index].status = .filled
            plan.legs[index].quantity = filled
            plan.legs[index].filledAt = now
            let byTrailing = plan.trailing.isArmed && plan.trailing.stopPrice == leg.triggerPrice
            finish(leg.kind == .emergency ? .emergency : byTrailing || leg.kind == .trail ? .trailingStop : .stopLoss)
        }
    }

    /// Moves the stop to `target` when that is tighter; never loosens it.
    private mutating func moveStop(_ index: Int, to target: Double) {
        guard tighter(target, than: plan.legs[index].triggerPrice) else { return }
        plan.legs[index].triggerPrice = target
        plan.legs[index].triggerPct = Rounding.fraction((target / plan.entryPrice - 1) * sign)
        plan.legs[index].clientOrderId = ClientOrderID.make(planId: plan.planId, legIndex: index, version: newVersion)
        note(.slMoved)
    }

    /// Arms trailing at the activation price, follows new best prices, and pulls the SL up to the
    /// trailing stop when that is tighter.
    private mutating func followTrailing() {
        guard plan.trailing.enabled, let activation = plan.trailing.activationPrice else { return }
        if let best = plan.trailing.bestPrice {
            guard tighter(price, than: best) else { return }
            note(.trailMoved)
        } else {
            guard reached(activation) else { return }
            note(.trailActivated)
        }
        let stop = Rounding.price(price * (1 - sign * plan.trailing.callbackPct))
        plan.trailing.bestPrice = price
        plan.trailing.stopPrice = stop
        if let stopIndex = pendingIndex(.stopLoss) {
            moveStop(stopIndex, to: stop)
        }
    }
}
