import ExitBrainDomain
import Foundation
import RedisClient

/// The book in Redis: plans, positions, prices, order records and the paper venue's book under one
/// namespace, on one connection, published as the bus's source.
public struct RedisBook: BookStore {
    /// Plans and history.
    public let plans: PlanStore
    /// Positions and prices.
    public let positions: PositionStore
    /// Events.
    public let bus: EventBus

    /// A book over the stores (which share one connection).
    public init(plans: PlanStore, positions: PositionStore, bus: EventBus) {
        self.plans = plans
        self.positions = positions
        self.bus = bus
    }

    /// A book on a connection of its own (the paper venue's: a venue's work does not queue
    /// behind the service's on one socket, as at a real venue).
    public init(configuration: RedisConfiguration, namespace: Namespace, source: String, connectionName: String) {
        let redis = RedisConnection(configuration: configuration, name: connectionName)
        let bus = EventBus(redis: redis, namespace: namespace, source: source)
        self.init(
            plans: PlanStore(redis: redis, namespace: namespace, bus: bus), positions: PositionStore(redis: redis, namespace: namespace), bus: bus)
    }

    /// Closes the book's connection.
    public func close() async { await redis.close() }

    private var namespace: Namespace { plans.namespace }
    private var redis: RedisConnection { plans.redis }

    /// The source of the bus.
    public var source: String { bus.source }

    /// Publishes on the bus.
    @discardableResult
    public func publish(_ type: EventType, envelope: [UInt8]) async throws(CoordinationError) -> Int {
        try await bus.publish(type, envelope: envelope)
    }

    /// Applies the batch in one round trip.
    public func commit(_ writes: BookWrites) async throws(CoordinationError) { try await bus.commit(writes) }

    public func getOrCreate(
        _ plan: ExitPlan, retroactive: Bool, now: Date, after writes: BookWrites, orders: [OrderWrite]
    ) async throws(CoordinationError) -> PlanStore.Creation {
        try await plans.getOrCreate(plan, retroactive: retroactive, now: now, after: writes, orders: orders)
    }

    public func getOrCreateMany(
        _ plans: [ExitPlan], retroactive: Bool, now: Date
    ) async throws(CoordinationError) -> [Result<PlanStore.Creation, CoordinationError>] {
        try await self.plans.getOrCreateMany(plans, retroactive: retroactive, now: now)
    }

    public func update(
        _ plan: ExitPlan, expectedVersion: Int, event: PlanUpdatedEvent?, position: PositionSnapshot?,
        orders: [OrderWrite], after writes: BookWrites?, now: Date
    ) async throws(CoordinationError) -> PlanStore.Outcome {
        try await plans.update(plan, expectedVersion: expectedVersion, event: event, position: position, orders: orders, after: writes, now: now)
    }

    public func close(
        _ plan: ExitPlan, expectedVersion: Int, realizedPnl: Double, position: PlanStore.PositionAction,
        orders: [OrderWrite], after writes: BookWrites?, now: Date
    ) async throws(CoordinationError) -> PlanStore.Outcome {
        try await plans.close(
            plan, expectedVersion: expectedVersion, realizedPnl: realizedPnl, position: position, orders: orders, after: writes, now: now)
    }

    public func plan(_ key: PositionKey) async throws(CoordinationError) -> ExitPlan? { try await plans.get(key) }

    public func position(_ key: PositionKey) async throws(CoordinationError) -> PositionSnapshot? { try await positions.get(key) }

    public func putPosition(_ snapshot: PositionSnapshot) async throws(CoordinationError) { try await positions.put(snapshot) }

    public func removePosition(_ key: PositionKey) async throws(CoordinationError) { try await positions.remove(key) }

    public func lastPrice(_ symbol: String) async throws(CoordinationError) -> Double? { try await positions.price(symbol) }

    public func recordPrices(_ prices: [String: Double]) async throws(CoordinationError) { try await positions.setPrices(prices) }

    public func insertIntent(_ intent: OrderWrite) async throws(CoordinationError) -> Bool {
        guard let fence = try plans.fence(for: intent.record.key.symbol) else {
            return try await pipeline([RedisCommand(["HSETNX", namespace.orders, intent.clientOrderId, intent.json])], what: "order intent")[0]
                .int == 1
        }
        do {
            let reply = try await redis.evaluate(
                LeaseScripts.intent, keys: [namespace.orders, namespace.fence(fence.bucket), namespace.lease(fence.bucket)],
                args: [intent.clientOrderId, intent.json, Int(fence.token), fence.instance])
            return reply.int == 1
        } catch { throw plans.fenced(error, fence) }
    }

    public func removeOrderRecords(_ clientOrderIds: [String]) async throws(CoordinationError) {
        guard !clientOrderIds.isEmpty else { return }
        var commands: [RedisCommand] = []
        for chunk in stride(from: 0, to: clientOrderIds.count, by: 1000) {
            let ids = Array(clientOrderIds[chunk..<min(chunk + 1000, clientOrderIds.count)])
            commands.append(RedisCommand(["HDEL", namespace.orders] + ids))
            commands.append(RedisCommand(["HDEL", namespace.paperOrders] + ids))
        }
        _ = try await pipeline(commands, what: "order records removal")
    }

    public func paperOrder(_ clientOrderId: String) async throws(CoordinationError) -> [UInt8]? {
        try await pipeline([RedisCommand(["HGET", namespace.paperOrders, clientOrderId])], what: "paper order")[0].bytes
    }

    public func orderRecords() async throws(CoordinationError) -> [(field: String, bytes: [UInt8])] {
        PlanStore.parseRaw(try await pipeline([RedisCommand(["HGETALL", namespace.orders])], what: "order records")[0])
    }

    public func paperOrders() async throws(CoordinationError) -> [(field: String, bytes: [UInt8])] {
        PlanStore.parseRaw(try await pipeline([RedisCommand(["HGETALL", namespace.paperOrders])], what: "paper orders")[0])
    }

    public func commitPaper(_ write: PaperLedgerWrite) async throws(CoordinationError) -> PaperLedgerWrite.Outcome {
        let call = try paperCall(write)
        let reply: RedisReply
        do { reply = try await redis.evaluate(PaperScripts.commit, keys: call.keys, args: call.args) } catch { throw CoordinationError(error) }
        return try Self.paperOutcome(reply, of: write)
    }

    public func commitPaperAll(_ writes: [PaperLedgerWrite]) async throws(CoordinationError) -> [PaperLedgerWrite.Outcome] {
        guard !writes.isEmpty else { return [] }
        let calls = try writes.map { (write) throws(CoordinationError) in try paperCall(write) }
        let replies: [RedisReply]
        do { replies = try await redis.evaluateAll(PaperScripts.commit, calls: calls.map { ($0.keys, $0.args) }) } catch {
            throw CoordinationError(error)
        }
        guard replies.count == writes.count else {
            throw CoordinationError(.redis, "paper orders: \(replies.count) replies to \(writes.count) writes")
        }
        return try zip(replies, writes).map { (pair) throws(CoordinationError) in try Self.paperOutcome(pair.0, of: pair.1) }
    }

    /// The keys and arguments of `PaperScripts.commit` for one step.
    private func paperCall(_ write: PaperLedgerWrite) throws(CoordinationError) -> (keys: [any RedisArgument], args: [any RedisArgument]) {
        var field = ""
        var position: [UInt8] = []
        switch write.position {
        case .store(let snapshot):
            field = snapshot.key.description
            do { position = try PlanJSON.encodeValue(snapshot) } catch { throw CoordinationError(error) }
        case .delete(let key):
            field = key.description
            position = Array("delete".utf8)
        case nil: break
        }
        return (
            [namespace.paperOrders, namespace.positions],
            [
                write.onlyIfNew ? "nx" : "set", write.clientOrderId, write.order, field, position,
                write.positionExisted.map { $0 ? "xx" : "absent" } ?? "",
            ]
        )
    }

    /// What the script answered for one step.
    private static func paperOutcome(_ reply: RedisReply, of write: PaperLedgerWrite) throws(CoordinationError) -> PaperLedgerWrite.Outcome {
        if case .error(let text) = reply { throw CoordinationError(.redis, "paper order \(write.clientOrderId): \(text)") }
        switch reply.int {
        case 1: return .written
        case 0: return .duplicate
        default: return .positionChanged
        }
    }

    /// Fields asked for per `HSCAN` slice of a full read. A slice of plans is a few hundred
    /// kilobytes that Redis serves in about a millisecond, so no other client waits behind one
    /// long reply (an `HGETALL` of 10 000 plans, 13 MB, held Redis for some 50 ms). A hash of up
    /// to this many fields is read in one round trip, as before.
    public static let scanSlice = 256

    /// Every field of each hash, slice by slice (the hashes' slices pipelined together). A field
    /// `HSCAN` returns twice (Redis rehashing under the scan) is kept once, with its later bytes.
    public func readAll(_ hashes: [BookHash]) async throws(CoordinationError) -> [[(field: String, bytes: [UInt8])]] {
        var results = hashes.map { _ in [(field: String, bytes: [UInt8])]() }
        var positions = hashes.map { _ in [String: Int]() }
        var cursors = hashes.map { _ in "0" }
        var pending = Array(hashes.indices)
        while !pending.isEmpty {
            let replies = try await pipeline(
                pending.map { RedisCommand(["HSCAN", key(hashes[$0]), cursors[$0], "COUNT", String(Self.scanSlice)]) }, what: "book read")
            var next: [Int] = []
            for (i, reply) in zip(pending, replies) {
                guard let parts = reply.array, parts.count == 2, let cursor = parts[0].string, parts[1].array != nil else {
                    throw CoordinationError(.redis, "book read: HSCAN answered \(reply.description.prefix(200))")
                }
                for record in PlanStore.parseRaw(parts[1]) {
                    if let at = positions[i][record.field] {
                        results[i][at] = record
                    } else {
                        positions[i][record.field] = results[i].count
                        results[i].append(record)
                    }
                }
                cursors[i] = cursor
                if cursor != "0" { next.append(i) }
            }
            pending = next
        }
        return results
    }

    public func fieldNames(_ hashes: [BookHash]) async throws(CoordinationError) -> [[String]] {
        let replies = try await pipeline(hashes.map { RedisCommand(["HKEYS", key($0)]) }, what: "book field names")
        return replies.map { $0.array?.compactMap(\.string) ?? [] }
    }

    public func fetch(_ requests: [(hash: BookHash, fields: [String])]) async throws(CoordinationError) -> [[[UInt8]?]] {
        let asked = requests.filter { !$0.fields.isEmpty }
        var replies = try await pipeline(asked.map { RedisCommand(["HMGET", key($0.hash)] + $0.fields) }, what: "book fetch")[...]
        return requests.map { request in
            guard !request.fields.isEmpty else { return [] }
            let items = replies.removeFirst().array ?? []
            return request.fields.indices.map { $0 < items.count ? items[$0].bytes : nil }
        }
    }

    public var roundTrips: Int { plans.roundTrips }

    private func key(_ hash: BookHash) -> String {
        switch hash {
        case .plans: namespace.plans
        case .positions: namespace.positions
        }
    }

    /// One pipelined round trip; any error reply is the error.
    private func pipeline(_ commands: [RedisCommand], what: String) async throws(CoordinationError) -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        let replies: [RedisReply]
        do { replies = try await redis.pipeline(commands) } catch { throw CoordinationError(error) }
        for reply in replies {
            if case .error(let text) = reply { throw CoordinationError(.redis, "\(what): \(text)") }
        }
        return replies
    }
}
