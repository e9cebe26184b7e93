import Foundation

/// Builds exit plans (docs/exit-rules.md). Pure: same input, same plan.
///
/// Strategy choice, in order: risk mode `ESS_ACTIVE` → `EMERGENCY_EXIT`; profile
/// `CHALLENGE_100` → `CHALLENGE_100`; PnL on margin above 0.10 → `PROFIT_LOCK`; otherwise
/// `STANDARD_LADDER`.
public struct Planner: Sendable {
    /// Fee per side, for symmetry with ``PlanExecutor``; the planning rules do not depend on it.
    public let feeRate: Double

    /// Creates a planner.
    public init(feeRate: Double = 0.0004) {
        self.feeRate = feeRate
    }

    /// Makes the first plan of a position: version 1, status ACTIVE, `created_at = updated_at = now`.
    public func makePlan(_ input: PlannerInput) throws(DomainError) -> ExitPlan {
        try build(input, planId: input.planId, version: 1, createdAt: Timestamp.normalize(input.now))
    }

    /// Re-plans an active plan after the position grew (or shrank) to `input.quantity` at the
    /// new average `input.entryPrice`: same `plan_id` and `created_at`, version + 1, fresh legs
    /// for the new quantity. `input.planId` is ignored.
    public func replan(existing: ExitPlan, input: PlannerInput) throws(DomainError) -> ExitPlan {
        guard existing.key == input.key else {
            throw DomainError(.mismatch, "cannot re-plan \(existing.key) with an input for \(input.key)")
        }
        guard existing.isActive else {
            throw DomainError(.mismatch, "plan \(existing.planId) for \(existing.key) is closed; make a new plan instead")
        }
        return try build(input, planId: existing.planId, version: existing.version + 1, createdAt: existing.createdAt)
    }

    private func build(_ input: PlannerInput, planId: String, version: Int, createdAt: Date) throws(DomainError) -> ExitPlan {
        try input.validate()
        let targets = PlanTargets(input)
        let now = Timestamp.normalize(input.now)
        var draft = Draft(
            planId: planId, version: version, side: input.side,
            entry: Rounding.price(input.entryPrice), quantity: Rounding.quantity(input.quantity)
        )
        let strategy: StrategyID
        var trailing = TrailingState.disabled(callbackPct: targets.trailCallbackPct)
        var timeStopAt: Date?
        if targets.riskMode == .essActive {
            strategy = .emergencyExit
            draft.emergency(markPrice: input.markPrice, move: targets.favourableMove)
        } else if input.profile == .challenge100 {
            strategy = .challenge100
            trailing = draft.challenge(targets)
            timeStopAt = now.addingTimeInterval(Draft.challengeTimeStop)
        } else if targets.pnlOnMargin > Draft.profitLockThreshold {
            strategy = .profitLock
            draft.profitLock(targets)
        } else {
            strategy = .standardLadder
            trailing = draft.ladder(targets, leverage: input.leverage, notional: input.quantity * input.entryPrice)
        }
        return ExitPlan(
            planId: planId, symbol: input.symbol, side: input.side, status: .active, version: version,
            strategyId: strategy, profile: input.profile, source: input.source, entryPrice: draft.entry,
            initialQuantity: draft.quantity, remainingQuantity: draft.quantity, leverage: input.leverage,
            createdAt: createdAt, updatedAt: now, confidence: targets.confidence, marketRegime: targets.regime,
            context: input.context, legs: draft.legs, trailing: trailing, closedReason: nil, timeStopAt: timeStopAt
        )
    }
}
