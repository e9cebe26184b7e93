/// The event types of docs/contract.md §6; each travels on `{ns}:events:{type}`.
public enum EventType: String, Sendable, CaseIterable {
    /// A strategy's request to open, add to or close a position.
    case tradeSignal = "trade.signal"
    /// A price for a symbol.
    case marketTick = "market.tick"
    /// An order filled (entry or exit).
    case orderFilled = "order.filled"
    /// A position snapshot changed.
    case positionUpdated = "position.updated"
    /// A plan was created.
    case planCreated = "exit_plan.created"
    /// A plan changed.
    case planUpdated = "exit_plan.updated"
    /// An exit leg fired (live or shadow).
    case legTriggered = "exit_leg.triggered"
    /// A plan was closed and moved to history.
    case planClosed = "exit_plan.closed"
    /// A service's periodic heartbeat.
    case heartbeat = "service.heartbeat"
    /// An operator alert.
    case alert = "alert"
    /// A receiver refused a message.
    case eventRejected = "event.rejected"
    case orderPlaced = "order.placed"
    case orderCanceled = "order.canceled"
    case orderRejected = "order.rejected"
}
