import ExitBrainDomain
import Foundation
import RedisClient

/// Position snapshots in `{ns}:positions` (in paper mode, the paper account's book) and last
/// prices in `{ns}:prices`.
public struct PositionStore: Sendable {
    /// The connection.
    let redis: RedisConnection
    /// The namespace.
    public let namespace: Namespace

    /// A store over `redis`.
    public init(redis: RedisConnection, namespace: Namespace) {
        self.redis = redis
        self.namespace = namespace
    }

    /// Writes a snapshot.
    public func put(_ snapshot: PositionSnapshot) async throws(CoordinationError) {
        let json: [UInt8]
        do { json = try PlanJSON.encodeValue(snapshot) } catch { throw CoordinationError(error) }
        _ = try await send(RedisCommand(["HSET", namespace.positions, snapshot.key.description, json]))
    }

    /// Removes a snapshot.
    public func remove(_ key: PositionKey) async throws(CoordinationError) {
        _ = try await send(RedisCommand(["HDEL", namespace.positions, key.description]))
    }

    /// One snapshot.
    public func get(_ key: PositionKey) async throws(CoordinationError) -> PositionSnapshot? {
        let reply = try await send(RedisCommand(["HGET", namespace.positions, key.description]))
        guard let bytes = reply.bytes else { return nil }
        return try Self.decode(bytes, field: key.description)
    }

    /// Several snapshots in one round trip (HMGET); absent ones are nil.
    public func get(_ keys: [PositionKey]) async throws(CoordinationError) -> [PositionKey: PositionSnapshot] {
        if keys.isEmpty { return [:] }
        let reply = try await send(RedisCommand(["HMGET", namespace.positions] + keys.map(\.description)))
        var out: [PositionKey: PositionSnapshot] = [:]
        for (key, item) in zip(keys, reply.array ?? []) {
            if let bytes = item.bytes, let s = try? Self.decode(bytes, field: key.description) { out[key] = s }
        }
        return out
    }

    /// Every snapshot in one round trip. Fields that are not valid snapshots (or whose key does
    /// not match the snapshot) come back in `corrupt` with the reason.
    public func all() async throws(CoordinationError) -> (positions: [PositionKey: PositionSnapshot], corrupt: [String: String]) {
        parseAll(try await send(allCommand))
    }

    /// The command `all()` sends.
    var allCommand: RedisCommand { RedisCommand(["HGETALL", namespace.positions]) }

    /// Reads the reply of ``allCommand`` as `all()` does.
    func parseAll(_ reply: RedisReply) -> (positions: [PositionKey: PositionSnapshot], corrupt: [String: String]) {
        var out: [PositionKey: PositionSnapshot] = [:]
        var corrupt: [String: String] = [:]
        for (field, bytes) in PlanStore.parseRaw(reply) {
            do {
                let s = try Self.decode(bytes, field: field)
                out[s.key] = s
            } catch {
                corrupt[field] = error.message
            }
        }
        return (out, corrupt)
    }

    /// The last price seen for a symbol.
    public func price(_ symbol: String) async throws(CoordinationError) -> Double? {
        let reply = try await send(RedisCommand(["HGET", namespace.prices, symbol]))
        return reply.string.flatMap(Double.init)
    }

    /// Records the last price of a symbol.
    public func setPrice(_ symbol: String, _ price: Double) async throws(CoordinationError) {
        try await setPrices([symbol: price])
    }

    /// Records last prices in one HSET.
    public func setPrices(_ prices: [String: Double]) async throws(CoordinationError) {
        guard !prices.isEmpty else { return }
        var args: [any RedisArgument] = ["HSET", namespace.prices]
        for (symbol, price) in prices {
            args.append(symbol)
            args.append(price)
        }
        _ = try await send(RedisCommand(args))
    }

    /// Reads one stored snapshot of hash field `field`, checking that the field names it.
    public static func decode(_ bytes: [UInt8], field: String) throws(CoordinationError) -> PositionSnapshot {
        let snapshot: PositionSnapshot
        do {
            snapshot = try PlanJSON.decodeValue(PositionSnapshot.self, from: bytes)
        } catch {
            throw CoordinationError(.corruptRecord, "position \(field) is not a valid snapshot: \(error.message)")
        }
        // A hand-written snapshot may omit the side (seed-style positionAmt): the field names it.
        guard snapshot.key.description == field || PositionKey(field) == nil else {
            throw CoordinationError(.corruptRecord, "position \(field) holds a snapshot for \(snapshot.key)")
        }
        return snapshot
    }

    private func send(_ command: RedisCommand) async throws(CoordinationError) -> RedisReply {
        do {
            return try await redis.send(command)
        } catch {
            throw CoordinationError(error)
        }
    }
}
