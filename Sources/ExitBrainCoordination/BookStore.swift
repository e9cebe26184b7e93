import ExitBrainDomain
import Foundation

/// The two hashes of the book that services mirror.
public enum BookHash: Sendable, Hashable {
    /// `{ns}:exit:plans`.
    case plans
    /// `{ns}:positions`.
    case positions
}

/// Everything the execution engine and the reconciler do to the book: plans (atomic
/// get-or-create, compare-and-set, close to history), positions, last prices, the paper
/// venue's order records, events, and the reads a ``BookMirror`` is made of.
///
/// ``RedisBook`` is the book; the seam lets the engine's and the reconciler's decisions be
/// tested without a network, against a book kept in memory with the same rules.
public protocol BookStore: EventPublishing {
    /// Stores `plan` for its position unless one is stored already (publishing
    /// `exit_plan.created` in the same step), after applying `writes` in the same round trip.
    func getOrCreate(_ plan: ExitPlan, retroactive: Bool, now: Date, after writes: BookWrites) async throws(CoordinationError) -> PlanStore.Creation
    /// `getOrCreate` for many positions in one round trip, each its own atomic step; one result per plan, in order.
    func getOrCreateMany(
        _ plans: [ExitPlan], retroactive: Bool, now: Date
    ) async throws(CoordinationError) -> [Result<PlanStore.Creation, CoordinationError>]
    /// Replaces the plan if the stored one has `expectedVersion` and the same plan id, with its
    /// event, its position and its paper orders in the same step.
    func update(
        _ plan: ExitPlan, expectedVersion: Int, event: PlanUpdatedEvent?, position: PositionSnapshot?,
        orders: [PlanStore.PaperOrder], now: Date
    ) async throws(CoordinationError) -> PlanStore.Outcome
    /// Moves the closed plan to history and removes it if the stored one has `expectedVersion`,
    /// publishing `exit_plan.closed`, applying `position` and recording `orders` in the same step.
    func close(
        _ plan: ExitPlan, expectedVersion: Int, realizedPnl: Double, position: PlanStore.PositionAction,
        orders: [PlanStore.PaperOrder], now: Date
    ) async throws(CoordinationError) -> PlanStore.Outcome
    /// The plan stored for a position.
    func plan(_ key: PositionKey) async throws(CoordinationError) -> ExitPlan?
    /// The position snapshot stored for a key.
    func position(_ key: PositionKey) async throws(CoordinationError) -> PositionSnapshot?
    /// Removes a position snapshot.
    func removePosition(_ key: PositionKey) async throws(CoordinationError)
    /// The last price recorded for a symbol.
    func lastPrice(_ symbol: String) async throws(CoordinationError) -> Double?
    /// Records last prices, in one write.
    func recordPrices(_ prices: [String: Double]) async throws(CoordinationError)
    /// Records a paper order once per client order id (false when it was there), reading the
    /// position `reading` in the same round trip.
    func recordOrder(
        _ order: PlanStore.PaperOrder, reading key: PositionKey?
    ) async throws(CoordinationError) -> (recorded: Bool, position: PositionSnapshot?)
    /// Every field and its bytes of each hash, in one round trip.
    func readAll(_ hashes: [BookHash]) async throws(CoordinationError) -> [[(field: String, bytes: [UInt8])]]
    /// The field names of each hash, in one round trip.
    func fieldNames(_ hashes: [BookHash]) async throws(CoordinationError) -> [[String]]
    /// The bytes of the named fields of each hash (nil where absent), in one round trip.
    func fetch(_ requests: [(hash: BookHash, fields: [String])]) async throws(CoordinationError) -> [[[UInt8]?]]
    /// Round trips made so far (figures and tests).
    var roundTrips: Int { get }
}
