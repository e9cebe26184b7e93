import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import Metrics
import RedisClient

/// One reconcile pass over every position and plan: missing plans are created retroactively,
/// plans whose position is gone are closed after a grace period, plans that disagree with
/// their position (quantity, missing SL) are reported and re-planned.
public actor Reconciler {
    /// What one pass saw and did.
    public struct PassResult: Sendable, Equatable {
        /// Positions read.
        public var positions = 0
        /// Plans read.
        public var plans = 0
        /// Plans created retroactively in this pass.
        public var created = 0
        /// Stale plans closed in this pass.
        public var closed = 0
        /// Plans re-planned in this pass.
        public var repaired = 0
        /// Redis round trips the pass took.
        public var roundTrips = 0
        /// How long it took, in seconds.
        public var seconds = 0.0
    }

    private let plans: PlanStore
    private let positions: PositionStore
    private let alerts: AlertSink
    private let planner: Planner
    private let executor: PlanExecutor
    private let feeRate: Double
    private let profile: ExitProfile
    private let grace: Duration
    private let enabled: Bool
    private let logger: Logger
    private var missingSince: [PositionKey: ContinuousClock.Instant] = [:]
    private var suspect: Set<PositionKey> = []
    private var decoded: [String: ([UInt8], ExitPlan)] = [:]
    private var decodedPositions: [String: ([UInt8], PositionSnapshot)] = [:]
    /// Positions and plans by position, kept from pass to pass and updated from what is read.
    private var book: [PositionKey: PositionSnapshot] = [:]
    private var planBook: [PositionKey: ExitPlan] = [:]
    /// Positions that still had no plan after the last pass (tried again next pass).
    private var lacking: Set<PositionKey> = []
    private var dirtyPlans: Set<String> = []
    private var dirtyPositions: Set<String> = []
    private var needFullRead = true
    private var feedAttached = false
    private var lastFullRead: ContinuousClock.Instant?
    /// With a change feed, how often a pass reads every record anyway.
    public let fullReadEvery: Duration
    /// Retroactive creations alerted one by one in a pass; more are summed up in one alert.
    public static let individualAlerts = 10
    /// Totals since start.
    public private(set) var totals = PassResult()
    /// The last pass.
    public private(set) var last: PassResult?
    /// When the last pass ended.
    public private(set) var lastPassAt: ContinuousClock.Instant?

    /// A reconciler; `grace` is how long a plan may stand without its position (one interval);
    /// `feeRate` (`PAPER_FEE_RATE`) is the fee its plans and realized PnL use, as in the execution service.
    public init(plans: PlanStore, positions: PositionStore, alerts: AlertSink, profile: ExitProfile, grace: Duration, enabled: Bool = true,
                feeRate: Double, fullReadEvery: Duration = .seconds(60), logger: Logger) {
        self.planner = Planner(feeRate: feeRate)
        self.executor = PlanExecutor(feeRate: feeRate)
        self.feeRate = feeRate
        self.fullReadEvery = fullReadEvery
        self.plans = plans
        self.positions = positions
        self.alerts = alerts
        self.profile = profile
        self.grace = grace
        self.enabled = enabled
        self.logger = logger
    }

    // MARK: - reading the book

    /// Marks a plan field (`SYMBOL:SIDE`) as changed since the last pass (from a plan event).
    public func noteChange(plan field: String) { dirtyPlans.insert(field) }

    /// Marks a position field as changed since the last pass (from a position event).
    public func noteChange(position field: String) { dirtyPositions.insert(field) }

    /// Events may have been missed (the change feed dropped or is not subscribed): the next
    /// pass reads everything.
    public func noteLostEvents() { needFullRead = true }

    /// Whether a change feed tells this reconciler what changed. Without one, every pass reads
    /// every record.
    public func attachChangeFeed(_ attached: Bool) {
        feedAttached = attached
        needFullRead = true
    }

    /// Positions and plans as stored. A full read moves both hashes in one round trip and
    /// decodes only the records whose bytes changed. With a change feed attached, a pass in
    /// between full reads takes the field names of both hashes (one round trip) and then only
    /// the records that are new or named by an event (one more): the steady pass does not move
    /// every plan. A full read comes every `fullReadEvery`, after a lost event, and on the first pass.
    /// Returns the positions whose record or plan changed (nil after a full read: all may have).
    private func readBook() async throws(CoordinationError) -> (changed: Set<PositionKey>?, unreadable: [(code: String, field: String, why: String)]) {
        let clock = ContinuousClock()
        let changedPlans = dirtyPlans
        let changedPositions = dirtyPositions
        dirtyPlans = []
        dirtyPositions = []
        let full = !feedAttached || needFullRead || lastFullRead.map { clock.now - $0 >= fullReadEvery } ?? true
        var unreadable: [(code: String, field: String, why: String)] = []
        var changed: Set<PositionKey> = []
        if full {
            // Cleared before the read: a lost event noted while it is under way asks for the
            // next one (a failed read sets it again, in `pass`).
            needFullRead = false
            let replies = try await pipeline([positions.allCommand, plans.allCommand])
            lastFullRead = clock.now
            var seenPositions: Set<String> = []
            for (field, bytes) in plans.parseRaw(replies[0]) {
                seenPositions.insert(field)
                if let cached = decodedPositions[field], cached.0 == bytes { continue }
                storePosition(field, bytes, &unreadable, &changed)
            }
            for field in decodedPositions.keys where !seenPositions.contains(field) { dropPosition(field, &changed) }
            var seenPlans: Set<String> = []
            for (field, bytes) in plans.parseRaw(replies[1]) {
                seenPlans.insert(field)
                if let cached = decoded[field], cached.0 == bytes { continue }
                storePlan(field, bytes, &unreadable, &changed)
            }
            for field in decoded.keys where !seenPlans.contains(field) { dropPlan(field, &changed) }
        } else {
            let names = try await pipeline([RedisCommand(["HKEYS", positions.namespace.positions]), RedisCommand(["HKEYS", plans.namespace.plans])])
            let positionFields = names[0].array?.compactMap(\.string) ?? []
            let planFields = names[1].array?.compactMap(\.string) ?? []
            // One lookup per name: the names not held yet are fetched; when every held record
            // is among the names (the usual case), nothing was removed and no set is built.
            // A plan named by an event is read with its position and the reverse: a fill
            // changes both, and only one of its two events may have arrived.
            let named = changedPlans.union(changedPositions)
            var fetchPositions: [String] = []
            var known = 0
            for field in positionFields {
                if decodedPositions[field] == nil { fetchPositions.append(field) } else {
                    known += 1
                    if named.contains(field) { fetchPositions.append(field) }
                }
            }
            if known != decodedPositions.count {
                let present = Set(positionFields)
                for field in decodedPositions.keys where !present.contains(field) { dropPosition(field, &changed) }
            }
            var fetchPlans: [String] = []
            known = 0
            for field in planFields {
                if decoded[field] == nil { fetchPlans.append(field) } else {
                    known += 1
                    if named.contains(field) { fetchPlans.append(field) }
                }
            }
            if known != decoded.count {
                let present = Set(planFields)
                for field in decoded.keys where !present.contains(field) { dropPlan(field, &changed) }
            }
            var commands: [RedisCommand] = []
            if !fetchPositions.isEmpty { commands.append(RedisCommand(["HMGET", positions.namespace.positions] + fetchPositions)) }
            if !fetchPlans.isEmpty { commands.append(RedisCommand(["HMGET", plans.namespace.plans] + fetchPlans)) }
            if !commands.isEmpty {
                var replies = try await pipeline(commands)[...]
                if !fetchPositions.isEmpty {
                    for (field, item) in zip(fetchPositions, replies.removeFirst().array ?? []) {
                        if let bytes = item.bytes { storePosition(field, bytes, &unreadable, &changed) } else { dropPosition(field, &changed) }
                    }
                }
                if !fetchPlans.isEmpty {
                    for (field, item) in zip(fetchPlans, replies.removeFirst().array ?? []) {
                        if let bytes = item.bytes { storePlan(field, bytes, &unreadable, &changed) } else { dropPlan(field, &changed) }
                    }
                }
            }
        }
        return (full ? nil : changed, unreadable)
    }

    private func storePosition(_ field: String, _ bytes: [UInt8], _ unreadable: inout [(code: String, field: String, why: String)],
                               _ changed: inout Set<PositionKey>) {
        do {
            let snapshot = try positions.decode(bytes, field: field)
            dropPosition(field, &changed)
            decodedPositions[field] = (bytes, snapshot)
            book[snapshot.key] = snapshot
            changed.insert(snapshot.key)
        } catch {
            dropPosition(field, &changed)
            unreadable.append(("POSITION_UNREADABLE", field, error.message))
        }
    }

    private func dropPosition(_ field: String, _ changed: inout Set<PositionKey>) {
        guard let (_, old) = decodedPositions.removeValue(forKey: field) else { return }
        book[old.key] = nil
        changed.insert(old.key)
    }

    private func storePlan(_ field: String, _ bytes: [UInt8], _ unreadable: inout [(code: String, field: String, why: String)],
                           _ changed: inout Set<PositionKey>) {
        do {
            let plan = try PlanJSON.decode(bytes)
            guard plan.key.description == field else {
                dropPlan(field, &changed)
                unreadable.append(("PLAN_UNREADABLE", field, "the plan stored under \(field) is for \(plan.key)"))
                return
            }
            dropPlan(field, &changed)
            decoded[field] = (bytes, plan)
            planBook[plan.key] = plan
            changed.insert(plan.key)
        } catch {
            dropPlan(field, &changed)
            unreadable.append(("PLAN_UNREADABLE", field, error.message))
        }
    }

    private func dropPlan(_ field: String, _ changed: inout Set<PositionKey>) {
        guard let (_, old) = decoded.removeValue(forKey: field) else { return }
        planBook[old.key] = nil
        changed.insert(old.key)
    }

    private func pipeline(_ commands: [RedisCommand]) async throws(CoordinationError) -> [RedisReply] {
        let replies: [RedisReply]
        do { replies = try await plans.redis.pipeline(commands) } catch { throw CoordinationError(error) }
        for reply in replies {
            if case .error(let text) = reply { throw CoordinationError(.redis, "reconcile read: \(text)") }
        }
        return replies
    }

    /// Runs one pass.
    @discardableResult
    public func pass(now: Date = Date()) async throws(CoordinationError) -> PassResult {
        // A pass that fails part-way may have consumed change notices it did not act on: the
        // next one reads everything.
        var finished = false
        defer { if !finished { needFullRead = true } }
        let clock = ContinuousClock()
        let start = clock.now
        let trips = plans.redis.stats.roundTrips
        var result = PassResult()
        let (changed, unreadable) = try await readBook()
        await alerts.raise(unreadable.map { AlertEvent(severity: "warning", code: $0.code, message: $0.why, key: $0.field) })
        result.positions = book.count
        result.plans = planBook.count
        // What this pass looks at: after a full read every position and plan; otherwise what
        // changed, plus what earlier passes left open (grace periods, suspects, positions whose
        // plan could not be made).
        let scope: [PositionKey]
        if let changed {
            scope = Array(changed.union(missingSince.keys).union(suspect).union(lacking))
        } else {
            scope = Array(Set(book.keys).union(planBook.keys))
        }

        // Positions without a plan: planned here, created in one pipelined round trip, each
        // position its own atomic get-or-create (a plan the execution service stored a moment
        // earlier wins, and is what we keep).
        var createdNow: Set<PositionKey> = []
        if enabled {
            var candidates: [ExitPlan] = []
            for key in scope {
                guard let position = book[key], planBook[key] == nil else { continue }
                logger.warning("no exit plan found, creating retroactively", metadata: ["key": "\(key)", "quantity": "\(position.quantity)", "entry_price": "\(position.entryPrice)"])
                let input = PlannerInput.retroactive(symbol: key.symbol, side: key.side, entryPrice: position.entryPrice, quantity: position.quantity,
                                                     leverage: position.leverage, markPrice: position.markPrice, profile: profile,
                                                     planId: RandomUUID.string(), now: now, feeRate: feeRate)
                do {
                    candidates.append(try planner.makePlan(input))
                } catch {
                    await alerts.raise(AlertEvent(severity: "critical", code: "PLAN_NOT_POSSIBLE", message: error.message, key: key.description))
                }
            }
            var createdKeys: [(PositionKey, String)] = []
            for (plan, outcome) in zip(candidates, try await plans.getOrCreateMany(candidates, retroactive: true, now: now)) {
                switch outcome {
                case .success(let creation):
                    // Not written into the book: the book holds only what was read, so that it
                    // can never keep a plan Redis no longer has. The plan's event (or the next
                    // full read) brings it in.
                    createdNow.insert(plan.key)
                    guard creation.created else { continue }
                    result.created += 1
                    createdKeys.append((plan.key, plan.planId))
                    Counter(label: "exitbrain_plans_created_total", dimensions: [("source", "RETROACTIVE")]).increment()
                    Counter(label: "exitbrain_retroactive_plans_total").increment()
                case .failure(let error):
                    await alerts.raise(AlertEvent(severity: "critical", code: "PLAN_NOT_CREATED", message: error.message, key: plan.key.description))
                }
            }
            // One info alert per position, up to a handful a pass; beyond that one summary, so a
            // book imported without plans does not flood the alert channel.
            var notices = createdKeys.prefix(Self.individualAlerts).map { key, planId in
                AlertEvent(severity: "info", code: "PLAN_CREATED_RETROACTIVELY", message: "position had no exit plan; created \(planId)", key: key.description)
            }
            if createdKeys.count > Self.individualAlerts {
                let rest = createdKeys.count - Self.individualAlerts
                notices.append(AlertEvent(severity: "info", code: "PLANS_CREATED_RETROACTIVELY",
                                          message: "\(createdKeys.count) positions had no exit plan; plans created for all (\(rest) not alerted one by one, see exit_plan.created events)",
                                          key: nil))
            }
            await alerts.raise(notices)
        }

        // Plans without a position: closed after one grace period.
        for key in scope {
            guard let plan = planBook[key], book[key] == nil else { continue }
            guard let since = missingSince[key] else {
                missingSince[key] = clock.now
                continue
            }
            guard clock.now - since >= grace else { continue }
            let closed = executor.close(plan: plan, reason: .positionClosed, now: now)
            let outcome = try await plans.close(closed, expectedVersion: plan.version, realizedPnl: executor.realizedPnl(plan: closed), position: .keep, now: now)
            missingSince[key] = nil
            var gone: Set<PositionKey> = []
            if outcome == .written || outcome == .missing { dropPlan(key.description, &gone) }
            if outcome == .written {
                result.closed += 1
                Counter(label: "exitbrain_stale_plans_closed_total").increment()
                Counter(label: "exitbrain_plans_closed_total", dimensions: [("reason", "POSITION_CLOSED")]).increment()
                logger.info("exit plan closed", metadata: ["key": "\(key)", "plan_id": "\(plan.planId)", "closed_reason": "POSITION_CLOSED"])
            }
        }
        for key in missingSince.keys where book[key] != nil || planBook[key] == nil { missingSince[key] = nil }

        // Plans that disagree with their position: reported and re-planned when seen twice in a row.
        var nowSuspect: Set<PositionKey> = []
        for key in scope {
            guard let position = book[key], let plan = planBook[key], plan.isActive else { continue }
            let qtyOff = abs(plan.remainingQuantity - position.quantity) > max(1e-9, position.quantity * 1e-6)
            let noStop = plan.strategyId != .emergencyExit && plan.legs.first(where: { $0.kind == .stopLoss && $0.status == .pending }) == nil
            guard qtyOff || noStop else { continue }
            guard suspect.contains(key) else {
                nowSuspect.insert(key)
                continue
            }
            let why = qtyOff ? "plan quantity \(plan.remainingQuantity) differs from position \(position.quantity)" : "plan has no pending stop-loss leg"
            await alerts.raise(AlertEvent(severity: "warning", code: qtyOff ? "PLAN_QUANTITY_MISMATCH" : "PLAN_WITHOUT_SL", message: why + "; re-planning", key: key.description))
            do {
                let input = PlannerInput.retroactive(symbol: key.symbol, side: key.side, entryPrice: position.entryPrice, quantity: position.quantity,
                                                     leverage: position.leverage, markPrice: position.markPrice, context: plan.context, profile: profile,
                                                     planId: plan.planId, now: now, feeRate: feeRate)
                let repaired = try planner.replan(existing: plan, input: input)
                let event = PlanUpdatedEvent(key: key.description, planId: plan.planId, version: repaired.version, change: "REPAIRED", changes: ["REPAIRED"])
                switch try await plans.update(repaired, expectedVersion: plan.version, event: event, now: now) {
                case .written:
                    result.repaired += 1
                    logger.warning("re-planned inconsistent exit plan", metadata: ["key": "\(key)", "plan_id": "\(plan.planId)", "reason": "\(why)"])
                case .missing:
                    var gone: Set<PositionKey> = []
                    dropPlan(key.description, &gone)
                case .conflict:
                    needFullRead = true // it changed under us; read it again rather than trust the book
                }
            } catch let error as DomainError {
                await alerts.raise(AlertEvent(severity: "critical", code: "PLAN_NOT_POSSIBLE", message: error.message, key: key.description))
            } catch {
                throw error as? CoordinationError ?? CoordinationError(.redis, "\(error)")
            }
        }
        suspect = nowSuspect
        lacking = Set(scope.filter { book[$0] != nil && planBook[$0] == nil && !createdNow.contains($0) })

        result.roundTrips = plans.redis.stats.roundTrips - trips
        result.seconds = (clock.now - start).secondsValue
        totals.created += result.created
        totals.closed += result.closed
        totals.repaired += result.repaired
        totals.positions = result.positions
        totals.plans = result.plans
        last = result
        lastPassAt = clock.now
        Gauge(label: "exitbrain_reconcile_duration_seconds").record(result.seconds)
        Gauge(label: "exitbrain_reconcile_positions").record(Double(result.positions))
        Gauge(label: "exitbrain_plans_active").record(Double(result.plans + result.created - result.closed))
        finished = true
        return result
    }
}
