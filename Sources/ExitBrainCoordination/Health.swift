import ExitBrainDomain
import Foundation

/// A dependency's or a service's state (docs/contract.md §8).
public enum HealthStatus: String, Sendable, Codable, Comparable {
    /// Working.
    case ok = "OK"
    /// Working, with a problem worth a look.
    case degraded = "DEGRADED"
    /// Not working.
    case down = "DOWN"
    /// Not applicable here (with a note); never lowers the status.
    case notApplicable = "N/A"

    private var rank: Int {
        switch self {
        case .ok, .notApplicable: 0
        case .degraded: 1
        case .down: 2
        }
    }

    /// Worse is greater.
    public static func < (a: HealthStatus, b: HealthStatus) -> Bool { a.rank < b.rank }

    /// The gauge value of `exitbrain_health_status`: 2 OK, 1 DEGRADED, 0 DOWN.
    public var gaugeValue: Double {
        switch self {
        case .ok, .notApplicable: 2
        case .degraded: 1
        case .down: 0
        }
    }
}

/// One dependency in the health answer.
public struct DependencyHealth: Sendable, Equatable {
    /// Its state.
    public var status: HealthStatus
    /// Redis latency, for the `redis` entry.
    public var latencyMs: Double?
    /// Details, in the order given.
    public var details: [(String, JSONValue)]

    /// A dependency entry.
    public init(status: HealthStatus, latencyMs: Double? = nil, details: [(String, JSONValue)] = []) {
        self.status = status
        self.latencyMs = latencyMs
        self.details = details
    }

    /// Entries are equal when their JSON is.
    public static func == (a: DependencyHealth, b: DependencyHealth) -> Bool {
        a.json.render() == b.json.render()
    }

    var json: JSONValue {
        var fields: [(String, JSONValue)] = [("status", .string(status.rawValue))]
        if let latencyMs { fields.append(("latency_ms", .number(latencyMs))) }
        if !details.isEmpty { fields.append(("details", .object(details))) }
        return .object(fields)
    }
}

/// The health answer of a service (docs/contract.md §8).
public struct HealthReport: Sendable {
    /// `execution-service` or `monitoring-service`.
    public var service: String
    /// The service version.
    public var version: String
    /// When the report was made.
    public var timestamp: Date
    /// Seconds since start.
    public var uptimeSeconds: Double
    /// Dependencies in answer order (`redis`, `eventbus`, …).
    public var dependencies: [(String, DependencyHealth)]
    /// Dependencies whose DOWN makes the service DOWN (`redis`, `eventbus`); others degrade it.
    public var critical: Set<String>
    /// Service-level figures (`loop_lag_ms`, `last_loop_age_s`, …).
    public var metrics: [(String, JSONValue)]
    /// True when the main loop is stalled (DEGRADED).
    public var loopStalled: Bool

    /// A report.
    public init(
        service: String, version: String, timestamp: Date, uptimeSeconds: Double,
        dependencies: [(String, DependencyHealth)], critical: Set<String> = ["redis", "eventbus"],
        metrics: [(String, JSONValue)] = [], loopStalled: Bool = false
    ) {
        self.service = service
        self.version = version
        self.timestamp = timestamp
        self.uptimeSeconds = uptimeSeconds
        self.dependencies = dependencies
        self.critical = critical
        self.metrics = metrics
        self.loopStalled = loopStalled
    }

    /// The overall status: a critical dependency's DOWN is DOWN; any other problem, a stalled
    /// loop or a DEGRADED dependency is DEGRADED; `N/A` never lowers it.
    public var status: HealthStatus {
        var worst: HealthStatus = loopStalled ? .degraded : .ok
        for (name, dep) in dependencies where dep.status != .notApplicable {
            let effect: HealthStatus = dep.status == .down && !critical.contains(name) ? .degraded : dep.status
            worst = max(worst, effect)
        }
        return worst
    }

    /// 200 for OK and DEGRADED, 503 for DOWN.
    public var httpStatus: Int { status == .down ? 503 : 200 }

    /// The JSON answer.
    public var json: String {
        JSONValue.object([
            ("service", .string(service)),
            ("status", .string(status.rawValue)),
            ("version", .string(version)),
            ("timestamp", .string(Timestamp.format(timestamp))),
            ("uptime_seconds", .number((uptimeSeconds * 10).rounded() / 10)),
            ("dependencies", .object(dependencies.map { ($0.0, $0.1.json) })),
            ("metrics", .object(metrics)),
        ]).render()
    }
}

/// A small JSON value with ordered objects, for answers whose key order is part of the contract.
public indirect enum JSONValue: Sendable, Equatable {
    case string(String)
    case number(Double)
    case int(Int)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// Compact JSON text.
    public func render() -> String {
        switch self {
        case .string(let s): return JSONText.quoted(s)
        case .number(let d):
            guard d.isFinite else { return "null" }
            // Swift's shortest text that reads back as the same double: always valid JSON
            // ("2.0004", "2.0", "1e-05", "1e+16"), never a bare "2.".
            return d.description
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let items): return "[" + items.map { $0.render() }.joined(separator: ",") + "]"
        case .object(let fields): return "{" + fields.map { JSONText.quoted($0.0) + ":" + $0.1.render() }.joined(separator: ",") + "}"
        }
    }

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.render() == b.render() }
}
