import ExitBrainDomain
import Foundation
import RedisClient

/// The book in Redis: plans, positions, prices and the paper venue's orders under one
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
        _ plan: ExitPlan, retroactive: Bool, now: Date, after writes: BookWrites
    ) async throws(CoordinationError) -> PlanStore.Creation {
        try await plans.getOrCreate(plan, retroactive: retroactive, now: now, after: writes)
    }

    public func getOrCreateMany(
        _ plans: [ExitPlan], retroactive: Bool, now: Date
    ) async throws(CoordinationError) -> [Result<PlanStore.Creation, CoordinationError>] {
        try await self.plans.getOrCreateMany(plans, retroactive: retroactive, now: now)
    }

    public func update(
        _ plan: ExitPlan, expectedVersion: Int, event: PlanUpdatedEvent?, position: PositionSnapshot?,
        orders: [PlanStore.PaperOrder], now: Date
    ) async throws(CoordinationError) -> PlanStore.Outcome {
        try await plans.update(plan, expectedVersion: expectedVersion, event: event, position: position, orders: orders, now: now)
    }

    public func close(
        _ plan: ExitPlan, expectedVersion: Int, realizedPnl: Double, position: PlanStore.PositionAction,
        orders: [PlanStore.PaperOrder], now: Date
    ) async throws(CoordinationError) -> PlanStore.Outcome {
        try await plans.close(plan, expectedVersion: expectedVersion, realizedPnl: realizedPnl, position: position, orders: orders, now: now)
    }

    public func plan(_ key: PositionKey) async throws(CoordinationError) -> ExitPlan? { try await plans.get(key) }

    public func position(_ key: PositionKey) async throws(CoordinationError) -> PositionSnapshot? { try await positions.get(key) }

    public func removePosition(_ key: PositionKey) async throws(CoordinationError) { try await positions.remove(key) }

    public func lastPrice(_ symbol: String) async throws(CoordinationError) -> Double? { try await positions.price(symbol) }

    public func recordPrices(_ prices: [String: Double]) async throws(CoordinationError) { try await positions.setPrices(prices) }

    public func recordOrder(
        _ order: PlanStore.PaperOrder, reading key: PositionKey?
    ) async throws(CoordinationError) -> (recorded: Bool, position: PositionSnapshot?) {
        var commands = [RedisCommand(["HSETNX", namespace.paperOrders, order.clientOrderId, order.record])]
        if let key { commands.append(RedisCommand(["HGET", namespace.positions, key.description])) }
        let replies = try await pipeline(commands, what: "paper order \(order.clientOrderId)")
        guard let key, let bytes = replies[1].bytes else { return (replies[0].int == 1, nil) }
        return (replies[0].int == 1, try PositionStore.decode(bytes, field: key.description))
    }

    /// How many orders the paper venue has recorded.
    public func paperOrderCount() async throws(CoordinationError) -> Int {
        Int(try await pipeline([RedisCommand(["HLEN", namespace.paperOrders])], what: "paper orders")[0].int ?? 0)
    }

    public func readAll(_ hashes: [BookHash]) async throws(CoordinationError) -> [[(field: String, bytes: [UInt8])]] {
        let replies = try await pipeline(hashes.map { RedisCommand(["HGETALL", key($0)]) }, what: "book read")
        return replies.map(PlanStore.parseRaw)
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
