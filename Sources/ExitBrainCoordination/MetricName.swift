import Metrics

/// Every metric ExitBrain exports, with the help text of its `# HELP` line: the one place a
/// metric's name is written.
public enum MetricName: String, Sendable, CaseIterable {
    case alertDeliveries = "exitbrain_alert_deliveries_total"
    case alerts = "exitbrain_alerts_total"
    case eventBusRoundTrip = "exitbrain_eventbus_roundtrip_seconds"
    case eventsHandled = "exitbrain_events_handled_total"
    case eventsRejected = "exitbrain_events_rejected_total"
    case fills = "exitbrain_fills_total"
    case healthStatus = "exitbrain_health_status"
    case legsTriggered = "exitbrain_legs_triggered_total"
    case loopLag = "exitbrain_loop_lag_seconds"
    case orders = "exitbrain_orders_total"
    case orderOutcomes = "exitbrain_order_outcomes_total"
    case ordersUnknown = "exitbrain_orders_unknown"
    case positionsUnprotected = "exitbrain_positions_unprotected"
    case plansActive = "exitbrain_plans_active"
    case plansClosed = "exitbrain_plans_closed_total"
    case plansCreated = "exitbrain_plans_created_total"
    case reconcileDuration = "exitbrain_reconcile_duration_seconds"
    case reconcilePositions = "exitbrain_reconcile_positions"
    case redisLatency = "exitbrain_redis_latency_seconds"
    case retroactivePlans = "exitbrain_retroactive_plans_total"
    case signals = "exitbrain_signals_total"
    case stalePlansClosed = "exitbrain_stale_plans_closed_total"
    case venueRequests = "exitbrain_venue_requests_total"
    case venueRequestLatency = "exitbrain_venue_request_seconds"
    case venueWeightUsed = "exitbrain_venue_weight_used_1m"

    /// What the metric means, for its `# HELP` line.
    public var help: String {
        switch self {
        case .alertDeliveries: "Alert deliveries to each sink (webhook, telegram), by outcome."
        case .alerts: "Alerts sent, by severity and code."
        case .eventBusRoundTrip: "Round trip of a ping through the service's own event-bus subscription."
        case .eventsHandled: "Inbound bus events handled, by type."
        case .eventsRejected: "Inbound bus messages rejected, by reason."
        case .fills: "Fills reported by the venue, by purpose (ENTRY, EXIT)."
        case .healthStatus: "Health status: 2 OK, 1 DEGRADED, 0 DOWN."
        case .legsTriggered: "Exit legs triggered, by kind and shadow."
        case .loopLag: "How late the housekeeping loop ran its last round."
        case .orders: "Orders sent to the venue, by purpose."
        case .orderOutcomes: "What the venue answered to orders sent, by outcome."
        case .ordersUnknown: "Orders sent without an answer yet (UNKNOWN), being resolved by query."
        case .positionsUnprotected: "Open positions without a resting stop at their plan's SL for two monitor intervals."
        case .plansActive: "Active exit plans this service holds."
        case .plansClosed: "Exit plans closed, by reason."
        case .plansCreated: "Exit plans created, by source."
        case .reconcileDuration: "Duration of the last reconcile pass."
        case .reconcilePositions: "Positions seen by the last reconcile pass."
        case .redisLatency: "Redis PING round trip."
        case .retroactivePlans: "Exit plans the monitor created for positions that had none."
        case .signals: "Trade signals, by outcome."
        case .stalePlansClosed: "Plans closed by the monitor because their position was gone."
        case .venueRequests: "REST requests to the venue, by endpoint and answer code (HTTP status, or Binance's code on errors)."
        case .venueRequestLatency: "REST request latency to the venue, by endpoint."
        case .venueWeightUsed: "Request weight used in the current minute, as the venue last reported it."
        }
    }
}

extension Counter {
    /// A counter of one of ExitBrain's metrics.
    public convenience init(_ name: MetricName, dimensions: [(String, String)] = []) {
        self.init(label: name.rawValue, dimensions: dimensions)
    }
}

extension Gauge {
    /// A gauge of one of ExitBrain's metrics.
    public convenience init(_ name: MetricName, dimensions: [(String, String)] = []) {
        self.init(label: name.rawValue, dimensions: dimensions)
    }
}

extension Timer {
    /// A timer of one of ExitBrain's metrics.
    public convenience init(_ name: MetricName, dimensions: [(String, String)] = []) {
        self.init(label: name.rawValue, dimensions: dimensions)
    }
}
