import ExitBrainDomain
import Foundation
import Logging
import RedisClient

/// Publishes envelopes on `{ns}:events:{type}`.
public struct EventBus: EventPublishing {
    /// The connection used to publish.
    let redis: RedisConnection
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

    /// Publishes a raw message on a channel outside the event types (a service's ping channel).
    func publish(ping channel: String, _ message: String) async throws(CoordinationError) {
        do { _ = try await redis.send(RedisCommand(["PUBLISH", channel, message])) } catch { throw CoordinationError(error) }
    }

    /// Applies the batch in one pipelined write; the first write Redis refuses is the error.
    public func commit(_ writes: BookWrites) async throws(CoordinationError) {
        guard !writes.isEmpty else { return }
        let replies: [RedisReply]
        do { replies = try await redis.pipeline(commands(for: writes)) } catch { throw CoordinationError(error) }
        try Self.check(replies, writes)
    }

    /// The commands of a batch, in its order.
    func commands(for writes: BookWrites) -> [RedisCommand] {
        writes.writes.map { write in
            switch write {
            case .position(let key, let json): RedisCommand(["HSET", namespace.positions, key.description, json])
            case .event(let type, let envelope): RedisCommand(["PUBLISH", namespace.channel(type), envelope])
            case .order(let write): write.command(namespace)
            }
        }
    }

    /// Throws for the first reply of a batch that is an error.
    static func check(_ replies: [RedisReply], _ writes: BookWrites) throws(CoordinationError) {
        for (reply, write) in zip(replies, writes.writes) {
            guard case .error(let text) = reply else { continue }
            switch write {
            case .position(let key, _): throw CoordinationError(.redis, "position \(key): \(text)")
            case .event(let type, _): throw CoordinationError(.redis, "publish \(type.rawValue): \(text)")
            case .order(let write): throw CoordinationError(.redis, "order \(write.clientOrderId): \(text)")
            }
        }
    }

    /// The envelope bytes for a value, for publishing inside a script.
    public func envelope(_ type: EventType, _ value: some Encodable, now: Date = Date()) throws(CoordinationError) -> [UInt8] {
        try EventEnvelope.make(type: type, source: source, now: now, value: value)
    }
}
