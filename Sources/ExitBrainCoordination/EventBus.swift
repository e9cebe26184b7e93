import ExitBrainDomain
import Foundation
import Logging
import RedisClient

/// Publishes envelopes on `{ns}:events:{type}`.
public struct EventBus: Sendable {
    /// The connection used to publish.
    public let redis: RedisConnection
    /// The namespace.
    public let namespace: Namespace
    /// The `source` written in every envelope.
    public let source: String

    /// A bus publisher.
    public init(redis: RedisConnection, namespace: Namespace, source: String) {
        self.redis = redis
        self.namespace = namespace
        self.source = source
    }

    /// Publishes a data value; returns how many subscribers received it.
    @discardableResult
    public func publish(_ type: EventType, _ value: some Encodable & Sendable, now: Date = Date()) async throws(CoordinationError) -> Int {
        let bytes = try EventEnvelope.make(type: type, source: source, now: now, value: value)
        return try await publish(type, envelope: bytes)
    }

    /// Publishes ready envelope bytes.
    @discardableResult
    public func publish(_ type: EventType, envelope: [UInt8]) async throws(CoordinationError) -> Int {
        do {
            let reply = try await redis.send(RedisCommand(["PUBLISH", namespace.channel(type), envelope]))
            return Int(reply.int ?? 0)
        } catch {
            throw CoordinationError(error)
        }
    }

    /// The PUBLISH command for a value, for callers that pipeline it with other commands.
    public func publishCommand(_ type: EventType, _ value: some Encodable, now: Date = Date()) throws(CoordinationError) -> RedisCommand {
        RedisCommand(["PUBLISH", namespace.channel(type), try envelope(type, value, now: now)])
    }

    /// The envelope bytes for a value, for publishing inside a script.
    public func envelope(_ type: EventType, _ value: some Encodable, now: Date = Date()) throws(CoordinationError) -> [UInt8] {
        try EventEnvelope.make(type: type, source: source, now: now, value: value)
    }
}
