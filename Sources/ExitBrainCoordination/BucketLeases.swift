import ExitBrainDomain
import Foundation
import RedisClient

/// Bucket leases in Redis (docs/contract.md §12): `{ns}:lease:{bucket}` holds the instance id
/// with the lease time (`SET NX PX`), `{ns}:fence:{bucket}` the fencing token incremented at
/// each acquisition, and `{ns}:instances:{service}` the instances' entries. What an instance
/// holds is kept in its ``LeaseTable``, which every fenced write consults.
public struct BucketLeases: Sendable {
    /// The connection.
    let redis: RedisConnection
    /// The namespace.
    public let namespace: Namespace
    /// The buckets.
    public let buckets: BucketMap
    /// The service whose instances share them.
    public let service: String

    /// Leases over `redis`.
    public init(redis: RedisConnection, namespace: Namespace, buckets: BucketMap, service: String) {
        self.redis = redis
        self.namespace = namespace
        self.buckets = buckets
        self.service = service
    }

    /// What Redis holds now: its time, each held bucket's instance, and the instances' entries.
    public struct View: Sendable, Equatable {
        /// Redis's time, in milliseconds since 1970.
        public var nowMs: Int64
        /// Bucket → the instance holding it (free buckets absent).
        public var holders: [Int: String]
        /// The instances' entries (unreadable ones left out).
        public var entries: [InstanceEntry]
    }

    /// Reads the view in one round trip.
    public func read() async throws(CoordinationError) -> View {
        let replies: [RedisReply]
        do {
            replies = try await redis.pipeline([
                RedisCommand(["TIME"]),
                RedisCommand(["MGET"] + buckets.all.map { namespace.lease($0) }),
                RedisCommand(["HGETALL", namespace.instances(service)]),
            ])
        } catch { throw CoordinationError(error) }
        guard let time = replies[0].array, time.count == 2, let seconds = time[0].string.flatMap({ Int64($0) }),
            let micros = time[1].string.flatMap({ Int64($0) })
        else { throw CoordinationError(.redis, "TIME returned \(replies[0])") }
        var holders: [Int: String] = [:]
        for (bucket, reply) in zip(buckets.all, replies[1].array ?? []) {
            if let holder = reply.string { holders[bucket] = holder }
        }
        var entries: [InstanceEntry] = []
        for row in PlanStore.parseRaw(replies[2]) {
            guard let entry = try? JSONDecoder().decode(InstanceEntry.self, from: Data(row.bytes)), entry.instance == row.field else { continue }
            entries.append(entry)
        }
        return View(nowMs: seconds * 1000 + micros / 1000, holders: holders, entries: entries)
    }

    /// Tries to take free buckets for `table`'s instance, in one round trip; the ones taken
    /// go into the table with their new tokens and are returned.
    public func acquire(_ wanted: [Int], into table: LeaseTable) async throws(CoordinationError) -> [Int] {
        guard !wanted.isEmpty else { return [] }
        let sentAt = ContinuousClock().now
        let replies: [RedisReply]
        do {
            replies = try await redis.evaluateAll(
                LeaseScripts.acquire,
                calls: wanted.map { ([namespace.lease($0), namespace.fence($0)], [table.instance, Self.milliseconds(table.ttl)]) })
        } catch { throw CoordinationError(error) }
        var taken: [Int] = []
        for (bucket, reply) in zip(wanted, replies) {
            guard let token = reply.int, token > 0 else { continue }
            table.hold(bucket, token: token, sentAt: sentAt)
            taken.append(bucket)
        }
        return taken
    }

    /// Renews every lease in the table, in one round trip; the ones found lost (expired and
    /// taken, or under a newer token) are dropped from the table and returned.
    public func renew(_ table: LeaseTable) async throws(CoordinationError) -> [Int] {
        let held = table.entries().sorted { $0.key < $1.key }
        guard !held.isEmpty else { return [] }
        let sentAt = ContinuousClock().now
        let replies: [RedisReply]
        do {
            replies = try await redis.evaluateAll(
                LeaseScripts.renew,
                calls: held.map {
                    ([namespace.lease($0.key), namespace.fence($0.key)], [table.instance, Int($0.value.token), Self.milliseconds(table.ttl)])
                }
            )
        } catch { throw CoordinationError(error) }
        var lost: [Int] = []
        for ((bucket, entry), reply) in zip(held, replies) {
            if reply.int == 1 {
                table.hold(bucket, token: entry.token, sentAt: sentAt)
            } else if case .error = reply {
                continue  // not known either way: the next renewal asks again
            } else {
                table.drop(bucket)
                lost.append(bucket)
            }
        }
        return lost
    }

    /// Frees buckets of the table's instance (dropped from the table first: nothing more is
    /// sent for them), in one round trip.
    public func release(_ freed: [Int], from table: LeaseTable) async throws(CoordinationError) {
        guard !freed.isEmpty else { return }
        for bucket in freed { table.drop(bucket) }
        do {
            _ = try await redis.evaluateAll(LeaseScripts.release, calls: freed.map { ([namespace.lease($0)], [table.instance]) })
        } catch { throw CoordinationError(error) }
    }

    /// Writes the instance's entry, removes entries older than `staleMs`, and keeps the hash
    /// from outliving its instances, in one round trip.
    public func announce(_ entry: InstanceEntry, removing stale: [String], keepFor ttl: Duration) async throws(CoordinationError) {
        let json: [UInt8]
        do { json = try PlanJSON.encodeValue(entry) } catch { throw CoordinationError(error) }
        var commands = [RedisCommand(["HSET", namespace.instances(service), entry.instance, json])]
        if !stale.isEmpty { commands.append(RedisCommand(["HDEL", namespace.instances(service)] + stale)) }
        commands.append(RedisCommand(["PEXPIRE", namespace.instances(service), Self.milliseconds(ttl)]))
        do { _ = try await redis.pipeline(commands) } catch { throw CoordinationError(error) }
    }

    /// Removes the instance's entry (a graceful stop).
    public func withdraw(_ instance: String) async throws(CoordinationError) {
        do { _ = try await redis.send(RedisCommand(["HDEL", namespace.instances(service), instance])) } catch { throw CoordinationError(error) }
    }

    static func milliseconds(_ d: Duration) -> Int { max(1, Int(d.secondsValue * 1000)) }
}
