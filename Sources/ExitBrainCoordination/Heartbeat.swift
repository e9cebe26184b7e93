import ExitBrainDomain
import Foundation
import RedisClient

/// A service's heartbeat: `{ns}:heartbeat:{service}` with an expiry of three beats, and a
/// `service.heartbeat` event, in one round trip.
public struct HeartbeatPublisher: Sendable {
    /// The bus (and its connection).
    public let bus: EventBus
    /// The service name, e.g. `execution-service`.
    public let service: String
    /// This process's instance id.
    public let instance: String
    /// The version reported.
    public let version: String
    /// The beat period.
    public let interval: Duration

    /// A publisher.
    public init(bus: EventBus, service: String, instance: String, version: String, interval: Duration) {
        self.bus = bus
        self.service = service
        self.instance = instance
        self.version = version
        self.interval = interval
    }

    /// Writes the key (expiring after three beats) and publishes the event.
    public func beat(status: String, now: Date = Date()) async throws(CoordinationError) {
        let event = HeartbeatEvent(service: service, instance: instance, version: version, status: status)
        let envelope = try bus.envelope(.heartbeat, event, now: now)
        let ttl = max(1, Int((interval * 3).secondsValue * 1000))
        do {
            _ = try await bus.redis.pipeline([
                RedisCommand(["SET", bus.namespace.heartbeat(service), envelope, "PX", ttl]),
                RedisCommand(["PUBLISH", bus.namespace.channel(.heartbeat), envelope]),
            ])
        } catch {
            throw CoordinationError(error)
        }
    }
}

/// What one service knows of a peer from its heartbeat key.
public struct PeerStatus: Sendable, Equatable {
    /// OK while a beat is younger than three intervals; DOWN otherwise.
    public var status: HealthStatus
    /// Seconds since the last beat, when one is known.
    public var age: Double?
    /// The peer's own reported status.
    public var reported: String?
}

/// Reads peers' heartbeat keys.
public struct PeerWatcher: Sendable {
    /// The connection.
    public let redis: RedisConnection
    /// The namespace.
    public let namespace: Namespace
    /// The heartbeat period (a peer is DOWN after three missed beats).
    public let interval: Duration

    /// A watcher.
    public init(redis: RedisConnection, namespace: Namespace, interval: Duration) {
        self.redis = redis
        self.namespace = namespace
        self.interval = interval
    }

    /// The peer's status now. A failed read is reported as DOWN with no age.
    public func status(of service: String, now: Date = Date()) async -> PeerStatus {
        guard let reply = try? await redis.send(RedisCommand(["GET", namespace.heartbeat(service)])),
            let bytes = reply.bytes
        else {
            return PeerStatus(status: .down, age: nil, reported: nil)
        }
        guard case .success(.heartbeat(let beat, let meta)) = InboundEvent.decode(type: .heartbeat, payload: bytes),
            let ts = Timestamp.parse(meta.ts)
        else {
            return PeerStatus(status: .down, age: nil, reported: nil)
        }
        let age = max(0, now.timeIntervalSince(ts))
        let limit = (interval * 3).secondsValue
        return PeerStatus(status: age <= limit ? .ok : .down, age: age, reported: beat.status)
    }
}
