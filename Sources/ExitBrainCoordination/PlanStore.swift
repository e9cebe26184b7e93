import ExitBrainDomain
import Foundation
import RedisClient

/// Exit plans in `{ns}:exit:plans`: Redis is their only home.
///
/// Creation is atomic (HSETNX in a script, with its `exit_plan.created` published in the same
/// step): two services racing for one position end with one plan and both get it back. Every
/// change is a compare-and-set on the plan's `version` (and plan id) with its event; closing
/// moves the plan to `{ns}:exit:history` and removes it in one step.
public struct PlanStore: Sendable {
    /// The connection.
    let redis: RedisConnection
    /// The namespace.
    public let namespace: Namespace
    /// Publisher identity for envelopes.
    public let bus: EventBus
    /// Approximate cap of the history stream.
    public var historyCap = 10_000
    /// The bucket leases of an execution instance: with them, every write is fenced by its
    /// symbol's bucket (docs/contract.md §12) and refused, `FENCED`, when the lease is not
    /// current; without them (the monitor), writes are not fenced.
    public let fencing: LeaseTable?

    /// A store over `redis`, publishing as `bus.source`, fencing its writes by `fencing`.
    public init(redis: RedisConnection, namespace: Namespace, bus: EventBus, fencing: LeaseTable? = nil) {
        self.redis = redis
        self.namespace = namespace
        self.bus = bus
        self.fencing = fencing
    }

    /// The result of `getOrCreate`.
    public struct Creation: Sendable {
        /// The plan stored for the position (ours, or the one that was there).
        public let plan: ExitPlan
        /// True when this call created it.
        public let created: Bool

        /// A result of get-or-create.
        public init(plan: ExitPlan, created: Bool) {
            self.plan = plan
            self.created = created
        }
    }

    /// Stores `plan` for its position unless one is stored already, with `orders` (its order
    /// intents) in the same step; returns the stored plan.
    public func getOrCreate(
        _ plan: ExitPlan, retroactive: Bool, now: Date = Date(), orders: [OrderWrite] = []
    ) async throws(CoordinationError) -> Creation {
        let reply = try await run(
            PlanScripts.getOrCreate, symbol: plan.symbol, keys: [namespace.plans, namespace.orders],
            args: try creationArgs(plan, retroactive: retroactive, now: now) + OrderWrite.arguments(orders))
        return try await created(plan, reply)
    }

    /// `getOrCreate` sent in one write after `writes` (a fill's position write and events):
    /// one round trip for all. A write Redis refuses is the error, after the script ran.
    public func getOrCreate(
        _ plan: ExitPlan, retroactive: Bool, now: Date = Date(), after writes: BookWrites, orders: [OrderWrite] = []
    ) async throws(CoordinationError) -> Creation {
        let reply = try await run(
            PlanScripts.getOrCreate, symbol: plan.symbol, keys: [namespace.plans, namespace.orders],
            args: try creationArgs(plan, retroactive: retroactive, now: now) + OrderWrite.arguments(orders), after: writes)
        return try await created(plan, reply)
    }

    /// `getOrCreate` for many positions in one pipelined round trip (the monitor's first pass
    /// over a book without plans). Each position is its own atomic step, exactly as in
    /// `getOrCreate`; results come back in the order of `plans`, one per plan, each a creation
    /// or the error for that position.
    public func getOrCreateMany(
        _ plans: [ExitPlan], retroactive: Bool, now: Date = Date()
    ) async throws(CoordinationError) -> [Result<Creation, CoordinationError>] {
        // The monitor's pass: not fenced (the monitor holds no leases).
        var calls: [(keys: [any RedisArgument], args: [any RedisArgument])] = []
        calls.reserveCapacity(plans.count)
        for plan in plans { calls.append(([namespace.plans, namespace.orders], try creationArgs(plan, retroactive: retroactive, now: now))) }
        let replies: [RedisReply]
        do { replies = try await redis.evaluateAll(PlanScripts.getOrCreate.plain, calls: calls) } catch { throw CoordinationError(error) }
        let results = zip(plans, replies).map { plan, reply -> Result<Creation, CoordinationError> in
            if case .error(let text) = reply { return .failure(CoordinationError(.redis, "get-or-create for \(plan.key): \(text)")) }
            return Result { () throws(CoordinationError) in try creation(plan, reply) }
        }
        // One acknowledgement for the whole batch.
        if results.contains(where: { (try? $0.get())?.created == true }) { _ = try? await redis.waitForReplica() }
        return results
    }

    private func creationArgs(_ plan: ExitPlan, retroactive: Bool, now: Date) throws(CoordinationError) -> [any RedisArgument] {
        let json = try encode(plan)
        // The envelope is sent as the part before the plan and the part after it; the script
        // publishes head + plan + tail, so the plan's bytes cross the wire once.
        let head = EventEnvelope.head(type: .planCreated, source: bus.source, now: now) + EventEnvelope.planCreatedHead
        let tail = EventEnvelope.planCreatedTail(retroactive: retroactive, closeEnvelope: true)
        return [plan.key.description, json, namespace.channel(.planCreated), head, tail]
    }

    /// A created plan is acknowledged by a replica before it is reported (`WAIT 1` on this
    /// connection, when the primary has replicas): a plan a failover may lose is seen in health
    /// (DEGRADED), not assumed safe. A failed wait leaves the creation as it is.
    private func created(_ plan: ExitPlan, _ reply: RedisReply) async throws(CoordinationError) -> Creation {
        let result = try creation(plan, reply)
        if result.created { _ = try? await redis.waitForReplica() }
        return result
    }

    private func creation(_ plan: ExitPlan, _ reply: RedisReply) throws(CoordinationError) -> Creation {
        guard let parts = reply.array, let flag = parts.first?.int else {
            throw CoordinationError(.corruptRecord, "get-or-create for \(plan.key) returned \(reply)")
        }
        if flag == 1 { return Creation(plan: plan, created: true) }
        guard parts.count == 2, let stored = parts[1].bytes else {
            throw CoordinationError(.corruptRecord, "get-or-create for \(plan.key) returned \(reply)")
        }
        return Creation(plan: try decode(stored, key: plan.key.description), created: false)
    }

    /// The outcome of a compare-and-set.
    public enum Outcome: Sendable, Equatable {
        /// Written.
        case written
        /// Another version (or another plan) is stored; it is returned.
        case conflict(current: ExitPlan?)
        /// No plan is stored for the position.
        case missing
    }

    /// Replaces the plan if the stored one still has `expectedVersion` and the same plan id,
    /// publishing `exit_plan.updated` (when `event` is given) and writing `position` in the same step.
    /// `orders` (intents and answers) are written to `{ns}:orders` in the same step, and only if
    /// the plan is written.
    public func update(
        _ plan: ExitPlan, expectedVersion: Int, event: PlanUpdatedEvent?, position: PositionSnapshot? = nil,
        orders: [OrderWrite] = [], after writes: BookWrites? = nil, now: Date = Date()
    ) async throws(CoordinationError) -> Outcome {
        let json = try encode(plan)
        let envelope = event.map { EventEnvelope.make(type: .planUpdated, source: bus.source, now: now, data: $0.jsonBytes()) } ?? []
        let positionJSON: [UInt8] = try position.map { (p) throws(CoordinationError) in try encodeValue(p) } ?? []
        let reply = try await run(
            PlanScripts.compareAndSet, symbol: plan.symbol, keys: [namespace.plans, namespace.positions, namespace.orders],
            args: [
                plan.key.description, expectedVersion, Self.marker(plan), json,
                namespace.channel(.planUpdated), envelope, positionJSON,
            ] + OrderWrite.arguments(orders), after: writes)
        return try outcome(reply, key: plan.key.description)
    }

    /// What a close does to the position snapshot in the same step.
    public enum PositionAction: Sendable {
        /// Remove it (the position is fully exited).
        case delete
        /// Leave it as it is.
        case keep
        /// Store this snapshot.
        case store(PositionSnapshot)
    }

    /// Moves the (closed) plan to history and removes it, if the stored one still has
    /// `expectedVersion`; publishes `exit_plan.closed`; applies `position` in the same step.
    public func close(
        _ plan: ExitPlan, expectedVersion: Int, realizedPnl: Double, position: PositionAction,
        orders: [OrderWrite] = [], after writes: BookWrites? = nil, now: Date = Date()
    ) async throws(CoordinationError) -> Outcome {
        let closing = Closing(plan: plan, expectedVersion: expectedVersion, realizedPnl: realizedPnl, position: position, orders: orders)
        let call = try closeCall(closing, now: now)
        let reply = try await run(PlanScripts.close, symbol: plan.symbol, keys: call.keys, args: call.args, after: writes)
        return try outcome(reply, key: plan.key.description)
    }

    /// One plan to close, as ``close(_:expectedVersion:realizedPnl:position:orders:after:now:)`` takes it.
    public struct Closing: Sendable {
        public var plan: ExitPlan
        public var expectedVersion: Int
        public var realizedPnl: Double
        public var position: PositionAction
        public var orders: [OrderWrite]

        public init(plan: ExitPlan, expectedVersion: Int, realizedPnl: Double, position: PositionAction, orders: [OrderWrite] = []) {
            self.plan = plan
            self.expectedVersion = expectedVersion
            self.realizedPnl = realizedPnl
            self.position = position
            self.orders = orders
        }
    }

    /// Several plans closed, each exactly as ``close(_:expectedVersion:realizedPnl:position:orders:after:now:)``
    /// closes one (its own atomic step), all in one pipelined round trip: the outcomes in order.
    /// A `FENCED` refusal of any throws, as it does for one.
    public func closeAll(_ closings: [Closing], now: Date = Date()) async throws(CoordinationError) -> [Outcome] {
        guard !closings.isEmpty else { return [] }
        var script = PlanScripts.close.plain
        var fences: [LeaseTable.Fence?] = []
        var calls: [(keys: [any RedisArgument], args: [any RedisArgument])] = []
        calls.reserveCapacity(closings.count)
        for closing in closings {
            let own = try closeCall(closing, now: now)
            let fence = try fence(for: closing.plan.symbol)
            // With leases every call is fenced, without them none is: one script for all.
            let call = PlanScripts.close.call(keys: own.keys, args: own.args, fence: fence, namespace: namespace)
            script = call.script
            fences.append(fence)
            calls.append((call.keys, call.args))
        }
        let replies: [RedisReply]
        do { replies = try await redis.evaluateAll(script, calls: calls) } catch { throw CoordinationError(error) }
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(replies.count)
        for (i, reply) in replies.enumerated() {
            let key = closings[i].plan.key.description
            if case .error(let text) = reply { throw fenced(RedisError(.server, "script \(script.name): \(text)"), fences[i]) }
            outcomes.append(try outcome(reply, key: key))
        }
        return outcomes
    }

    /// The close script's keys and arguments for one plan.
    private func closeCall(_ closing: Closing, now: Date) throws(CoordinationError) -> (keys: [String], args: [any RedisArgument]) {
        let plan = closing.plan
        let json = try encode(plan)
        let event = PlanClosedEvent(
            key: plan.key.description, planId: plan.planId,
            closedReason: plan.closedReason ?? .positionClosed,
            realizedPnl: Rounding.price(closing.realizedPnl))
        let envelope = try bus.envelope(.planClosed, event, now: now)
        let action: [UInt8]
        switch closing.position {
        case .delete: action = Array("delete".utf8)
        case .keep: action = Array("keep".utf8)
        case .store(let snapshot): action = try encodeValue(snapshot)
        }
        return (
            [namespace.plans, namespace.history, namespace.positions, namespace.orders],
            [
                plan.key.description, closing.expectedVersion, Self.marker(plan), json,
                namespace.channel(.planClosed), envelope, action, historyCap,
            ] + OrderWrite.arguments(closing.orders)
        )
    }

    /// The plan stored for a position, if any.
    public func get(_ key: PositionKey) async throws(CoordinationError) -> ExitPlan? {
        let reply = try await send(RedisCommand(["HGET", namespace.plans, key.description]))
        guard let bytes = reply.bytes else { return nil }
        return try decode(bytes, key: key.description)
    }

    /// Every stored plan, in one round trip. Fields that do not hold a valid plan are returned
    /// in `corrupt` (field → error) instead of failing the whole read.
    public func all() async throws(CoordinationError) -> (plans: [PositionKey: ExitPlan], corrupt: [String: String]) {
        let raw = try await allRaw()
        var plans: [PositionKey: ExitPlan] = [:]
        var corrupt: [String: String] = [:]
        for (field, bytes) in raw {
            do {
                let plan = try decode(bytes, key: field)
                plans[plan.key] = plan
            } catch {
                corrupt[field] = error.message
            }
        }
        return (plans, corrupt)
    }

    /// Every stored field and its bytes, in one round trip.
    public func allRaw() async throws(CoordinationError) -> [(field: String, bytes: [UInt8])] {
        Self.parseRaw(try await send(allCommand))
    }

    /// The command `allRaw()` sends.
    var allCommand: RedisCommand { RedisCommand(["HGETALL", namespace.plans]) }

    /// Reads an HGETALL reply as field and bytes pairs.
    static func parseRaw(_ reply: RedisReply) -> [(field: String, bytes: [UInt8])] {
        guard let items = reply.array else { return [] }
        var out: [(String, [UInt8])] = []
        out.reserveCapacity(items.count / 2)
        var i = 0
        while i + 1 < items.count {
            out.append((items[i].string ?? "", items[i + 1].bytes ?? []))
            i += 2
        }
        return out
    }

    /// Round trips made on the store's connection so far.
    public var roundTrips: Int { redis.stats.roundTrips }

    /// How many plans are stored.
    public func count() async throws(CoordinationError) -> Int {
        Int(try await send(RedisCommand(["HLEN", namespace.plans])).int ?? 0)
    }

    /// The last `count` closed plans from history, newest first.
    public func history(count: Int) async throws(CoordinationError) -> [ExitPlan] {
        let reply = try await send(RedisCommand(["XREVRANGE", namespace.history, "+", "-", "COUNT", count]))
        var plans: [ExitPlan] = []
        for entry in reply.array ?? [] {
            guard let fields = entry.array?.last?.array else { continue }
            var i = 0
            while i + 1 < fields.count {
                if fields[i].string == "plan", let bytes = fields[i + 1].bytes, let p = try? decode(bytes, key: "history") { plans.append(p) }
                i += 2
            }
        }
        return plans
    }

    // MARK: - helpers

    /// `"plan_id":"<id>"`, found in the stored JSON to be sure the same plan is being changed.
    static func marker(_ plan: ExitPlan) -> String { "\"plan_id\":\"\(plan.planId)\"" }

    private func outcome(_ reply: RedisReply, key: String) throws(CoordinationError) -> Outcome {
        guard let parts = reply.array, let flag = parts.first?.int else {
            throw CoordinationError(.corruptRecord, "plan script for \(key) returned \(reply)")
        }
        switch flag {
        case 1: return .written
        case -1: return .missing
        default:
            let current = parts.count > 1 ? parts[1].bytes.flatMap { try? decode($0, key: key) } : nil
            return .conflict(current: current)
        }
    }

    /// The fence a write for `symbol` carries: none without leases; with them, the bucket's,
    /// or a `FENCED` error when this instance does not hold it (nothing is sent).
    func fence(for symbol: String) throws(CoordinationError) -> LeaseTable.Fence? {
        guard let fencing else { return nil }
        guard let fence = fencing.fence(for: symbol) else {
            throw CoordinationError(.fenced, "\(symbol) is in bucket \(fencing.buckets.bucket(of: symbol)), which this instance does not hold")
        }
        return fence
    }

    /// A script's `FENCED` refusal as the error of that name; the bucket is dropped at once.
    func fenced(_ error: RedisError, _ fence: LeaseTable.Fence?) -> CoordinationError {
        guard let fence, error.message.contains("FENCED ") else { return CoordinationError(error) }
        fencing?.fenced(fence)
        return CoordinationError(.fenced, "bucket \(fence.bucket) is no longer this instance's: \(error.message)")
    }

    /// Runs a plan script, fenced by the symbol's bucket when the store has leases; `writes`
    /// (events of the same reaction) go ahead of it in the same round trip, whatever the script answers.
    private func run(
        _ pair: PlanScripts.Pair, symbol: String, keys: [String], args: [any RedisArgument], after writes: BookWrites? = nil
    ) async throws(CoordinationError) -> RedisReply {
        let fence = try fence(for: symbol)
        let (script, keys, args) = pair.call(keys: keys, args: args, fence: fence, namespace: namespace)
        guard let writes, !writes.isEmpty else {
            do { return try await redis.evaluate(script, keys: keys, args: args) } catch { throw fenced(error, fence) }
        }
        let result: (replies: [RedisReply], script: RedisReply)
        do {
            result = try await redis.pipeline(bus.commands(for: writes), then: script, keys: keys, args: args)
        } catch { throw fenced(error, fence) }
        try EventBus.check(result.replies, writes)
        return result.script
    }

    private func send(_ command: RedisCommand) async throws(CoordinationError) -> RedisReply {
        do {
            return try await redis.send(command)
        } catch {
            throw CoordinationError(error)
        }
    }

    private func encode(_ plan: ExitPlan) throws(CoordinationError) -> [UInt8] {
        do { return try PlanJSON.encode(plan) } catch { throw CoordinationError(error) }
    }

    private func encodeValue(_ value: some Encodable) throws(CoordinationError) -> [UInt8] {
        do { return try PlanJSON.encodeValue(value) } catch { throw CoordinationError(error) }
    }

    private func decode(_ bytes: [UInt8], key: String) throws(CoordinationError) -> ExitPlan {
        let plan: ExitPlan
        do {
            plan = try PlanJSON.decode(bytes)
        } catch {
            throw CoordinationError(.corruptRecord, "plan at \(namespace.plans) \(key) is not a valid plan: \(error.message)")
        }
        // A plan stored under another position's field is not that position's plan.
        guard PositionKey(key) == nil || plan.key.description == key else {
            throw CoordinationError(.corruptRecord, "plan at \(namespace.plans) \(key) is for \(plan.key)")
        }
        return plan
    }
}
