import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Synchronization
import Venue

/// A book kept in memory with the rules of ``RedisBook``'s scripts (get-or-create once per
/// position, compare-and-set on version and plan id, close to history, paper orders once per
/// client order id), so that the engine's and the reconciler's decisions are tested without a
/// network. Every call counts as one round trip, as it would against Redis.
public final class InMemoryBook: BookStore {
    /// One published event.
    public struct Published: Sendable {
        /// Its type.
        public let type: EventType
        /// The envelope as it would go out.
        public let envelope: [UInt8]

        /// The envelope's `data`, as JSON.
        public var data: [String: Any] {
            ((try? JSONSerialization.jsonObject(with: Data(envelope))) as? [String: Any])?["data"] as? [String: Any] ?? [:]
        }
    }

    private struct State {
        var plans: [String: [UInt8]] = [:]
        var positions: [String: [UInt8]] = [:]
        var history: [[UInt8]] = []
        var orders: [String: [UInt8]] = [:]
        var paper: [String: [UInt8]] = [:]
        var prices: [String: Double] = [:]
        var published: [Published] = []
        var roundTrips = 0
        var paperReads = 0
    }

    private let state = Mutex(State())
    /// The `source` of its envelopes.
    public let source: String

    /// An empty book publishing as `source`.
    public init(source: String = "test-service") { self.source = source }

    // MARK: - what tests look at and set up

    /// Events published so far, in order.
    public var published: [Published] { state.withLock { $0.published } }
    /// Events of one type.
    public func events(_ type: EventType) -> [Published] { published.filter { $0.type == type } }
    /// Order records (`{ns}:orders`) by client order id.
    public var orders: [String: OrderRecord] {
        state.withLock { $0.orders }.compactMapValues { try? JSONDecoder().decode(OrderRecord.self, from: Data($0)) }
    }
    /// The paper venue's own book by client order id.
    public var paperBook: [String: OrderRecord] {
        state.withLock { $0.paper }.compactMapValues { try? JSONDecoder().decode(OrderRecord.self, from: Data($0)) }
    }
    /// Closed plans, oldest first.
    public var history: [ExitPlan] { state.withLock { $0.history }.compactMap { try? PlanJSON.decode($0) } }
    /// The stored plan of a position.
    public func storedPlan(_ key: PositionKey) -> ExitPlan? { state.withLock { $0.plans[key.description] }.flatMap { try? PlanJSON.decode($0) } }
    /// The stored position.
    public func storedPosition(_ key: PositionKey) -> PositionSnapshot? {
        state.withLock { $0.positions[key.description] }.flatMap { try? PositionStore.decode($0, field: key.description) }
    }
    /// Writes a snapshot as any client could (a position opened outside the service).
    public func seed(_ snapshot: PositionSnapshot) throws {
        let json = try PlanJSON.encodeValue(snapshot)
        state.withLock { $0.positions[snapshot.key.description] = json }
    }
    /// Writes a plan as any client could (another writer's change).
    public func seed(_ plan: ExitPlan) throws {
        let json = try PlanJSON.encode(plan)
        state.withLock { $0.plans[plan.key.description] = json }
    }
    /// Removes a position as any client could.
    public func drop(_ key: PositionKey) { state.withLock { _ = $0.positions.removeValue(forKey: key.description) } }

    // MARK: - BookStore

    @discardableResult
    public func publish(_ type: EventType, envelope: [UInt8]) async throws(CoordinationError) -> Int {
        state.withLock {
            $0.roundTrips += 1
            $0.published.append(Published(type: type, envelope: envelope))
        }
        return 0
    }

    public func commit(_ writes: BookWrites) async throws(CoordinationError) {
        state.withLock {
            $0.roundTrips += 1
            Self.apply(writes, &$0)
        }
    }

    public func getOrCreate(
        _ plan: ExitPlan, retroactive: Bool, now: Date, after writes: BookWrites, orders: [OrderWrite]
    ) async throws(CoordinationError) -> PlanStore.Creation {
        let json = try encode(plan)
        let stored: [UInt8]? = state.withLock { s in
            s.roundTrips += 1
            Self.apply(writes, &s)
            let stored = Self.create(plan, json, retroactive: retroactive, now: now, source: source, &s)
            if stored == nil { Self.write(orders, &s) }
            return stored
        }
        guard let stored else { return PlanStore.Creation(plan: plan, created: true) }
        return PlanStore.Creation(plan: try decode(stored), created: false)
    }

    public func getOrCreateMany(
        _ plans: [ExitPlan], retroactive: Bool, now: Date
    ) async throws(CoordinationError) -> [Result<PlanStore.Creation, CoordinationError>] {
        guard !plans.isEmpty else { return [] }
        var encoded: [[UInt8]] = []
        for plan in plans { encoded.append(try encode(plan)) }
        let stored: [[UInt8]?] = state.withLock { s in
            s.roundTrips += 1
            return zip(plans, encoded).map { Self.create($0, $1, retroactive: retroactive, now: now, source: source, &s) }
        }
        return zip(plans, stored).map { plan, bytes in
            guard let bytes else { return .success(PlanStore.Creation(plan: plan, created: true)) }
            return Result { () throws(CoordinationError) in PlanStore.Creation(plan: try decode(bytes), created: false) }
        }
    }

    public func update(
        _ plan: ExitPlan, expectedVersion: Int, event: PlanUpdatedEvent?, position: PositionSnapshot?,
        orders: [OrderWrite], after writes: BookWrites?, now: Date
    ) async throws(CoordinationError) -> PlanStore.Outcome {
        let json = try encode(plan)
        let positionJSON: [UInt8]?
        do { positionJSON = try position.map { try PlanJSON.encodeValue($0) } } catch { throw CoordinationError(.domain, "\(error)") }
        return state.withLock { s in
            s.roundTrips += 1
            if let writes { Self.apply(writes, &s) }
            if let outcome = Self.check(plan, expectedVersion, s) { return outcome }
            Self.write(orders, &s)
            s.plans[plan.key.description] = json
            if let positionJSON { s.positions[plan.key.description] = positionJSON }
            if let event {
                s.published.append(
                    Published(type: .planUpdated, envelope: EventEnvelope.make(type: .planUpdated, source: source, now: now, data: event.jsonBytes()))
                )
            }
            return .written
        }
    }

    public func close(
        _ plan: ExitPlan, expectedVersion: Int, realizedPnl: Double, position: PlanStore.PositionAction,
        orders: [OrderWrite], after writes: BookWrites?, now: Date
    ) async throws(CoordinationError) -> PlanStore.Outcome {
        let json = try encode(plan)
        let event = PlanClosedEvent(
            key: plan.key.description, planId: plan.planId,
            closedReason: plan.closedReason ?? .positionClosed, realizedPnl: Rounding.price(realizedPnl))
        let envelope = try EventEnvelope.make(type: .planClosed, source: source, now: now, value: event)
        var snapshotJSON: [UInt8]?
        if case .store(let snapshot) = position {
            do { snapshotJSON = try PlanJSON.encodeValue(snapshot) } catch { throw CoordinationError(.domain, "\(error)") }
        }
        return state.withLock { s in
            s.roundTrips += 1
            if let writes { Self.apply(writes, &s) }
            if let outcome = Self.check(plan, expectedVersion, s) { return outcome }
            Self.write(orders, &s)
            s.history.append(json)
            s.plans[plan.key.description] = nil
            switch position {
            case .delete: s.positions[plan.key.description] = nil
            case .keep: break
            case .store: s.positions[plan.key.description] = snapshotJSON
            }
            s.published.append(Published(type: .planClosed, envelope: envelope))
            return .written
        }
    }

    public func plan(_ key: PositionKey) async throws(CoordinationError) -> ExitPlan? {
        guard
            let bytes = state.withLock({ s -> [UInt8]? in
                s.roundTrips += 1
                return s.plans[key.description]
            })
        else { return nil }
        return try decode(bytes)
    }

    public func position(_ key: PositionKey) async throws(CoordinationError) -> PositionSnapshot? {
        guard
            let bytes = state.withLock({ s -> [UInt8]? in
                s.roundTrips += 1
                return s.positions[key.description]
            })
        else { return nil }
        return try PositionStore.decode(bytes, field: key.description)
    }

    public func putPosition(_ snapshot: PositionSnapshot) async throws(CoordinationError) {
        let json: [UInt8]
        do { json = try PlanJSON.encodeValue(snapshot) } catch { throw CoordinationError(error) }
        state.withLock {
            $0.roundTrips += 1
            $0.positions[snapshot.key.description] = json
        }
    }

    public func removePosition(_ key: PositionKey) async throws(CoordinationError) {
        state.withLock {
            $0.roundTrips += 1
            $0.positions[key.description] = nil
        }
    }

    public func lastPrice(_ symbol: String) async throws(CoordinationError) -> Double? {
        state.withLock {
            $0.roundTrips += 1
            return $0.prices[symbol]
        }
    }

    public func recordPrices(_ prices: [String: Double]) async throws(CoordinationError) {
        state.withLock {
            $0.roundTrips += 1
            $0.prices.merge(prices) { $1 }
        }
    }

    public func insertIntent(_ intent: OrderWrite) async throws(CoordinationError) -> Bool {
        state.withLock { s in
            s.roundTrips += 1
            guard s.orders[intent.clientOrderId] == nil else { return false }
            s.orders[intent.clientOrderId] = intent.json
            return true
        }
    }

    public func removeOrderRecords(_ clientOrderIds: [String]) async throws(CoordinationError) {
        state.withLock { s in
            s.roundTrips += 1
            for id in clientOrderIds {
                s.orders[id] = nil
                s.paper[id] = nil
            }
        }
    }

    public func paperOrder(_ clientOrderId: String) async throws(CoordinationError) -> [UInt8]? {
        state.withLock { s in
            s.roundTrips += 1
            return s.paper[clientOrderId]
        }
    }

    public func orderRecords() async throws(CoordinationError) -> [(field: String, bytes: [UInt8])] {
        state.withLock { s in
            s.roundTrips += 1
            return s.orders.map { (field: $0.key, bytes: $0.value) }
        }
    }

    public func paperOrders() async throws(CoordinationError) -> [(field: String, bytes: [UInt8])] {
        state.withLock { s in
            s.roundTrips += 1
            s.paperReads += 1
            return s.paper.map { (field: $0.key, bytes: $0.value) }
        }
    }

    public func commitPaper(_ write: PaperLedgerWrite) async throws(CoordinationError) -> PaperLedgerWrite.Outcome {
        var position: (String, [UInt8]?)?
        switch write.position {
        case .store(let snapshot):
            do { position = (snapshot.key.description, try PlanJSON.encodeValue(snapshot)) } catch { throw CoordinationError(.domain, "\(error)") }
        case .delete(let key): position = (key.description, nil)
        case nil: break
        }
        return state.withLock { s in
            s.roundTrips += 1
            if write.onlyIfNew, s.paper[write.clientOrderId] != nil { return .duplicate }
            if let (field, _) = position, let existed = write.positionExisted, (s.positions[field] != nil) != existed { return .positionChanged }
            s.paper[write.clientOrderId] = write.order
            if let (field, json) = position { s.positions[field] = json }
            return .written
        }
    }

    public func readAll(_ hashes: [BookHash]) async throws(CoordinationError) -> [[(field: String, bytes: [UInt8])]] {
        state.withLock { s in
            s.roundTrips += 1
            return hashes.map { hash in Self.hash(hash, s).map { (field: $0.key, bytes: $0.value) } }
        }
    }

    public func fieldNames(_ hashes: [BookHash]) async throws(CoordinationError) -> [[String]] {
        state.withLock { s in
            s.roundTrips += 1
            return hashes.map { Array(Self.hash($0, s).keys) }
        }
    }

    public func fetch(_ requests: [(hash: BookHash, fields: [String])]) async throws(CoordinationError) -> [[[UInt8]?]] {
        state.withLock { s in
            s.roundTrips += 1
            return requests.map { request in
                let hash = Self.hash(request.hash, s)
                return request.fields.map { hash[$0] }
            }
        }
    }

    public var roundTrips: Int { state.withLock { $0.roundTrips } }

    /// Reads of the paper venue's whole book (``paperOrders()``).
    public var paperReads: Int { state.withLock { $0.paperReads } }

    // MARK: - the scripts' rules

    private static func hash(_ hash: BookHash, _ s: State) -> [String: [UInt8]] {
        switch hash {
        case .plans: s.plans
        case .positions: s.positions
        }
    }

    private static func apply(_ writes: BookWrites, _ s: inout State) {
        for write in writes.writes {
            switch write {
            case .position(let key, let json): s.positions[key.description] = json
            case .event(let type, let envelope): s.published.append(Published(type: type, envelope: envelope))
            case .order(let order): Self.write(order, &s)
            }
        }
    }

    /// Order record writes as the scripts make them: an intent only where the field is free.
    private static func write(_ orders: [OrderWrite], _ s: inout State) {
        for order in orders { write(order, &s) }
    }

    private static func write(_ order: OrderWrite, _ s: inout State) {
        if order.mode == .intent, s.orders[order.clientOrderId] != nil { return }
        s.orders[order.clientOrderId] = order.json
    }

    /// HSETNX and its event; returns the stored bytes when a plan was there.
    private static func create(_ plan: ExitPlan, _ json: [UInt8], retroactive: Bool, now: Date, source: String, _ s: inout State) -> [UInt8]? {
        if let stored = s.plans[plan.key.description] { return stored }
        s.plans[plan.key.description] = json
        let data = EventEnvelope.planCreatedData(planJSON: json, retroactive: retroactive)
        s.published.append(Published(type: .planCreated, envelope: EventEnvelope.make(type: .planCreated, source: source, now: now, data: data)))
        return nil
    }

    /// The compare-and-set check: nil when the stored plan has this id and version.
    private static func check(_ plan: ExitPlan, _ expectedVersion: Int, _ s: State) -> PlanStore.Outcome? {
        guard let bytes = s.plans[plan.key.description] else { return .missing }
        guard let current = try? PlanJSON.decode(bytes) else { return .conflict(current: nil) }
        guard current.version == expectedVersion, current.planId == plan.planId else { return .conflict(current: current) }
        return nil
    }

    private func encode(_ plan: ExitPlan) throws(CoordinationError) -> [UInt8] {
        do { return try PlanJSON.encode(plan) } catch { throw CoordinationError(error) }
    }

    private func decode(_ bytes: [UInt8]) throws(CoordinationError) -> ExitPlan {
        do { return try PlanJSON.decode(bytes) } catch { throw CoordinationError(.corruptRecord, error.message) }
    }
}
