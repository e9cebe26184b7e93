/// Whether the executor acts or only reports (docs/contract.md §2 `EXIT_EXECUTOR_MODE`).
public enum ExecutionMode: String, Sendable, CaseIterable {
    /// Decisions are meant to be executed and the plan advances.
    case live = "LIVE"
    /// Decisions are published with `shadow = true`; the plan is not changed.
    case shadow = "SHADOW"
}

/// One exit order the executor asks for: always reduce-only, always a market order at `price`.
public struct ExitDecision: Sendable, Equatable {
    /// The position.
    public var key: PositionKey
    /// The plan that decided.
    public var planId: String
    /// Index of the leg that fired.
    public var legIndex: Int
    /// Kind of the leg that fired.
    public var kind: LegKind
    /// The closing side (SELL for LONG, BUY for SHORT).
    public var orderSide: OrderSide
    /// Quantity to close.
    public var quantity: Double
    /// The leg's trigger price.
    public var triggerPrice: Double
    /// The price that fired the leg (the expected fill of the market order).
    public var price: Double
    /// The leg's deterministic client order id.
    public var clientOrderId: String
    /// Always `true`: exit orders never open or grow a position (docs/exit-rules.md defect 7).
    public var reduceOnly: Bool
    /// `true` in shadow mode: publish, do not place.
    public var shadow: Bool
    /// Set when this decision closes the plan.
    public var reason: ClosedReason?

    /// Creates a decision.
    public init(
        key: PositionKey, planId: String, legIndex: Int, kind: LegKind, orderSide: OrderSide, quantity: Double,
        triggerPrice: Double, price: Double, clientOrderId: String, reduceOnly: Bool = true, shadow: Bool,
        reason: ClosedReason?
    ) {
        self.key = key
        self.planId = planId
        self.legIndex = legIndex
        self.kind = kind
        self.orderSide = orderSide
        self.quantity = quantity
        self.triggerPrice = triggerPrice
        self.price = price
        self.clientOrderId = clientOrderId
        self.reduceOnly = reduceOnly
        self.shadow = shadow
        self.reason = reason
    }
}

/// What changed in a plan (the `change` of `exit_plan.updated`).
public enum PlanChange: String, Sendable, CaseIterable {
    /// A leg filled (and, when it closed the plan, the other legs were cancelled).
    case legFilled = "LEG_FILLED"
    /// The stop loss moved (breakeven, TP1 lock or trailing).
    case slMoved = "SL_MOVED"
    /// Trailing armed.
    case trailActivated = "TRAIL_ACTIVATED"
    /// The trailing stop followed a new best price.
    case trailMoved = "TRAIL_MOVED"
}

/// The result of evaluating a plan at one price.
public struct Evaluation: Sendable {
    /// Exit orders to place (or, in shadow mode, to publish), in execution order.
    public var decisions: [ExitDecision]
    /// The plan after the evaluation (unchanged when nothing changed, and always in shadow mode).
    public var plan: ExitPlan
    /// What changed, each kind once, in the order it happened; empty in shadow mode.
    public var changes: [PlanChange]
    /// Set when this evaluation closed the plan (never in shadow mode).
    public var closedReason: ClosedReason?

    /// Creates an evaluation.
    public init(decisions: [ExitDecision], plan: ExitPlan, changes: [PlanChange], closedReason: ClosedReason?) {
        self.decisions = decisions
        self.plan = plan
        self.changes = changes
        self.closedReason = closedReason
    }

    /// True when the plan changed (its version went up by one): write it back.
    public var changed: Bool { !changes.isEmpty }
}
