import ExitBrainDomain
import Foundation
import Metrics
import RedisClient

/// Measures the shared dependencies of both services: Redis (PING latency) and the event bus
/// (a real round trip on the service's own ping channel through its own subscriber).
public struct HealthProbe: Sendable {
    /// The command connection to time.
    public let redis: RedisConnection
    /// The service's subscription.
    public let subscription: EventSubscription
    /// Redis slower than this is DEGRADED.
    public var slowRedis: Duration = .milliseconds(100)

    /// A probe.
    public init(redis: RedisConnection, subscription: EventSubscription) {
        self.redis = redis
        self.subscription = subscription
    }

    /// `redis`: OK, DEGRADED above 100 ms, DOWN when PING fails.
    public func redisHealth() async -> DependencyHealth {
        do {
            let latency = try await redis.ping()
            Timer(.redisLatency).recordNanoseconds(Int64(latency.secondsValue * 1e9))
            let ms = latency.secondsValue * 1000
            var details: [(String, JSONValue)] = []
            if !redis.configuration.sentinels.isEmpty {
                // Through Sentinel: which primary, and when it last changed.
                let primary = redis.primaryState
                details.append(("primary", primary.address.map { .string($0) } ?? .null))
                details.append(("last_switch", primary.lastSwitch.map { .string(Timestamp.format($0)) } ?? .null))
            }
            // With replicas: a plan creation that no replica acknowledged (WAIT) may be lost
            // in a failover.
            let replication = redis.replication
            var unacknowledged = false
            if let replicas = replication.replicas, replicas > 0 || replication.lastAcknowledged != nil {
                details.append(("replicas", .int(replicas)))
                if let acknowledged = replication.lastAcknowledged {
                    details.append(("last_write_acknowledged_by", .int(acknowledged)))
                    if acknowledged == 0 {
                        unacknowledged = true
                        details.append(
                            (
                                "note",
                                .string(
                                    "the last plan created was acknowledged by no replica within \(redis.configuration.replicaWaitMilliseconds) ms")
                            ))
                    }
                }
            }
            return DependencyHealth(
                status: latency > slowRedis || unacknowledged ? .degraded : .ok, latencyMs: (ms * 1000).rounded() / 1000, details: details)
        } catch {
            return DependencyHealth(status: .down, details: [("error", .string(error.description))])
        }
    }

    /// `eventbus`: DOWN when the subscriber is not subscribed or the ping does not come back.
    public func eventBusHealth() async -> DependencyHealth {
        let status = subscription.subscriber.status
        guard status.subscribed else {
            let why = status.lastError?.description ?? "subscriber not connected"
            return DependencyHealth(status: .down, details: [("error", .string(why))])
        }
        guard let rt = await subscription.roundTrip(timeout: .seconds(1)) else {
            return DependencyHealth(status: .down, details: [("error", .string("ping did not come back within 1 s"))])
        }
        Gauge(.eventBusRoundTrip).record(rt.secondsValue)
        var details: [(String, JSONValue)] = [("roundtrip_ms", .number((rt.secondsValue * 1e6).rounded() / 1000))]
        if let age = subscription.lastMessageAge { details.append(("last_message_age_s", .number((age * 10).rounded() / 10))) }
        return DependencyHealth(status: .ok, details: details)
    }
}
