import ExitBrainDomain
import Foundation

/// One step of the paper venue's own book: an order (the venue's view of it) and the position
/// it changes, written together.
public struct PaperLedgerWrite: Sendable {
    /// What happens to the position.
    public enum PositionChange: Sendable {
        /// Store this snapshot.
        case store(PositionSnapshot)
        /// The position is gone.
        case delete(PositionKey)
    }

    /// Write only when the venue has no order under this client id (its dedupe).
    public var onlyIfNew: Bool
    /// The client order id.
    public var clientOrderId: String
    /// The venue's record of the order.
    public var order: [UInt8]
    /// The position change, if any.
    public var position: PositionChange?
    /// Whether the position existed when the change was worked out (checked: a position
    /// another client wrote or removed since makes the step write nothing); nil for no check.
    public var positionExisted: Bool?

    /// What the step did.
    public enum Outcome: Sendable, Equatable {
        /// Written.
        case written
        /// `onlyIfNew` and the venue has an order under this client id: nothing written.
        case duplicate
        /// The position is not as `positionExisted` says: nothing written.
        case positionChanged
    }

    /// A ledger step.
    public init(onlyIfNew: Bool, clientOrderId: String, order: [UInt8], position: PositionChange? = nil, positionExisted: Bool? = nil) {
        self.onlyIfNew = onlyIfNew
        self.clientOrderId = clientOrderId
        self.order = order
        self.position = position
        self.positionExisted = positionExisted
    }
}

/// Everything the execution engine and the reconciler do to the book: plans (atomic
/// get-or-create, compare-and-set, close to history), positions, last prices, order records
/// (`{ns}:orders`), the paper venue's own book, events, and the reads a ``BookMirror`` is made of.
///
/// ``RedisBook`` is the book; the seam lets the engine's and the reconciler's decisions be
/// tested without a network, against a book kept in memory with the same rules.
public protocol BookStore: EventPublishing, BookReading {
    /// Stores `plan` for its position unless one is stored already (publishing
    /// `exit_plan.created` and writing `orders`, its order intents, in the same step), after
    /// applying `writes` in the same round trip.
    func getOrCreate(
        _ plan: ExitPlan, retroactive: Bool, now: Date, after writes: BookWrites, orders: [OrderWrite]
    ) async throws(CoordinationError) -> PlanStore.Creation
    /// `getOrCreate` for many positions in one round trip, each its own atomic step; one result per plan, in order.
    func getOrCreateMany(
        _ plans: [ExitPlan], retroactive: Bool, now: Date
    ) async throws(CoordinationError) -> [Result<PlanStore.Creation, CoordinationError>]
    /// Replaces the plan if the stored one has `expectedVersion` and the same plan id, with its
    /// event, its position and its order records in the same step; `writes` (the reaction's other
    /// events) go ahead of it in the same round trip.
    func update(
        _ plan: ExitPlan, expectedVersion: Int, event: PlanUpdatedEvent?, position: PositionSnapshot?,
        orders: [OrderWrite], after writes: BookWrites?, now: Date
    ) async throws(CoordinationError) -> PlanStore.Outcome
    /// Moves the closed plan to history and removes it if the stored one has `expectedVersion`,
    /// publishing `exit_plan.closed`, applying `position` and writing `orders` in the same step,
    /// with `writes` ahead of it in the same round trip.
    func close(
        _ plan: ExitPlan, expectedVersion: Int, realizedPnl: Double, position: PlanStore.PositionAction,
        orders: [OrderWrite], after writes: BookWrites?, now: Date
    ) async throws(CoordinationError) -> PlanStore.Outcome
    /// The plan stored for a position.
    func plan(_ key: PositionKey) async throws(CoordinationError) -> ExitPlan?
    /// The position snapshot stored for a key.
    func position(_ key: PositionKey) async throws(CoordinationError) -> PositionSnapshot?
    /// Writes a position snapshot (a venue's position mirrored for the monitor and operators).
    func putPosition(_ snapshot: PositionSnapshot) async throws(CoordinationError)
    /// Removes a position snapshot.
    func removePosition(_ key: PositionKey) async throws(CoordinationError)
    /// The last price recorded for a symbol.
    func lastPrice(_ symbol: String) async throws(CoordinationError) -> Double?
    /// Records last prices, in one write.
    func recordPrices(_ prices: [String: Double]) async throws(CoordinationError)
    /// Writes an intent alone (`HSETNX`); false when a record with its client id was there
    /// (the order was intended before: a redelivered signal, a restart).
    func insertIntent(_ intent: OrderWrite) async throws(CoordinationError) -> Bool
    /// Removes order records (final ones past their retention), and the paper venue's records
    /// of the same ids, in one round trip.
    func removeOrderRecords(_ clientOrderIds: [String]) async throws(CoordinationError)
    /// Every order record of `{ns}:orders`, in one round trip.
    func orderRecords() async throws(CoordinationError) -> [(field: String, bytes: [UInt8])]
    /// One order of the paper venue's book.
    func paperOrder(_ clientOrderId: String) async throws(CoordinationError) -> [UInt8]?
    /// The paper venue's book of orders: client id and the venue's record, in one round trip.
    func paperOrders() async throws(CoordinationError) -> [(field: String, bytes: [UInt8])]
    /// Writes one step of the paper venue's book atomically, or nothing (see the outcome).
    func commitPaper(_ write: PaperLedgerWrite) async throws(CoordinationError) -> PaperLedgerWrite.Outcome
    /// Several such steps, each atomic on its own, in one round trip; the outcomes in order.
    func commitPaperAll(_ writes: [PaperLedgerWrite]) async throws(CoordinationError) -> [PaperLedgerWrite.Outcome]
    /// Round trips made so far (figures and tests).
    var roundTrips: Int { get }
}

extension BookStore {
    /// One step after another (a store without pipelining).
    public func commitPaperAll(_ writes: [PaperLedgerWrite]) async throws(CoordinationError) -> [PaperLedgerWrite.Outcome] {
        var outcomes: [PaperLedgerWrite.Outcome] = []
        for write in writes { outcomes.append(try await commitPaper(write)) }
        return outcomes
    }

    /// `update` with nothing ahead of it.
    public func update(
        _ plan: ExitPlan, expectedVersion: Int, event: PlanUpdatedEvent?, position: PositionSnapshot?, orders: [OrderWrite], now: Date
    ) async throws(CoordinationError) -> PlanStore.Outcome {
        try await update(plan, expectedVersion: expectedVersion, event: event, position: position, orders: orders, after: nil, now: now)
    }

    /// `close` with nothing ahead of it.
    public func close(
        _ plan: ExitPlan, expectedVersion: Int, realizedPnl: Double, position: PlanStore.PositionAction, orders: [OrderWrite], now: Date
    ) async throws(CoordinationError) -> PlanStore.Outcome {
        try await close(plan, expectedVersion: expectedVersion, realizedPnl: realizedPnl, position: position, orders: orders, after: nil, now: now)
    }
}
