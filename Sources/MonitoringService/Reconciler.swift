import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import Metrics

/// One reconcile pass over every position and plan: missing plans are created retroactively,
/// plans whose position is gone are closed after a grace period, plans that disagree with
/// their position (quantity, missing SL) are reported and re-planned.
public actor Reconciler: ChangeListener {
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
        /// Open positions without a resting stop at their plan's SL for the protection grace.
        public var unprotected = 0
        /// Redis round trips the pass took.
        public var roundTrips = 0
        /// How long it took, in seconds.
        public var seconds = 0.0
    }

    private let book: any BookStore
    private let mirror: BookMirror
    private let alerts: AlertSink
    private let planner: Planner
    private let executor: PlanExecutor
    private let profile: ExitProfile
    private let grace: Duration
    private let enabled: Bool
    private let logger: Logger
    private var missingSince: [PositionKey: ContinuousClock.Instant] = [:]
    private var suspect: Set<PositionKey> = []
    /// Positions that still had no plan after the last pass (tried again next pass).
    private var lacking: Set<PositionKey> = []
    private var dirtyPlans: Set<String> = []
    private var dirtyPositions: Set<String> = []
    private var feedAttached = false
    private let stopsRestAtVenue: (@Sendable (String) -> Bool)?
    private let protectionGrace: Duration
    /// Since when each open position has been seen without its resting stop.
    private var unprotectedSince: [PositionKey: ContinuousClock.Instant] = [:]
    /// Positions already alerted as unprotected (once per episode).
    private var alertedUnprotected: Set<PositionKey> = []
    /// Retroactive creations alerted one by one in a pass; more are summed up in one alert.
    public static let individualAlerts = 10
    /// Totals since start.
    public private(set) var totals = PassResult()
    /// The last pass.
    public private(set) var last: PassResult?
    /// When the last pass ended.
    public private(set) var lastPassAt: ContinuousClock.Instant?

    /// A reconciler over `book`; `grace` is how long a plan may stand without its position (one
    /// interval); `feeRate` (`PAPER_FEE_RATE`) is the fee its plans and realized PnL use, as in
    /// the execution service. With a change feed, a pass reads every record every `fullReadEvery`.
    /// `stopsRestAtVenue` says for which symbols the SL must rest at the venue (`EXIT_ORDERS=VENUE`
    /// and live); a position of such a symbol without its resting stop for `protectionGrace` is
    /// `POSITION_UNPROTECTED`. Nil: no protection check.
    public init(
        book: any BookStore, alerts: AlertSink, profile: ExitProfile, grace: Duration, enabled: Bool = true,
        feeRate: Double, fullReadEvery: Duration = .seconds(60), stopsRestAtVenue: (@Sendable (String) -> Bool)? = nil,
        protectionGrace: Duration = .seconds(10), logger: Logger
    ) {
        self.stopsRestAtVenue = stopsRestAtVenue
        self.protectionGrace = protectionGrace
        self.book = book
        mirror = BookMirror(book: book, hashes: [.positions, .plans], fullReadEvery: fullReadEvery)
        planner = Planner(feeRate: feeRate)
        executor = PlanExecutor(feeRate: feeRate)
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
    public func noteLostEvents() { mirror.requireFullRead() }

    /// Whether a change feed tells this reconciler what changed. Without one, every pass reads
    /// every record; with one, a steady pass reads the field names and what is new or named.
    public func attachChangeFeed(_ attached: Bool) {
        feedAttached = attached
        mirror.requireFullRead()
    }

    /// Runs one pass.
    @discardableResult
    public func pass(now: Date = Date()) async throws(CoordinationError) -> PassResult {
        // A pass that fails part-way may have consumed change notices it did not act on: the
        // next one reads everything.
        var finished = false
        defer { if !finished { mirror.requireFullRead() } }
        let clock = ContinuousClock()
        let start = clock.now
        let trips = book.roundTrips
        var result = PassResult()
        let named = dirtyPlans.union(dirtyPositions)
        dirtyPlans = []
        dirtyPositions = []
        let refresh = try await mirror.refresh(named: named, forceFull: !feedAttached)
        await alerts.raise(refresh.unreadable.map { AlertEvent(severity: .warning, code: $0.code, message: $0.why, key: $0.field) })
        let book = mirror.positions
        var planBook = mirror.plans
        result.positions = book.count
        result.plans = planBook.count
        // What this pass looks at: after a full read every position and plan; otherwise what
        // changed, plus what earlier passes left open (grace periods, suspects, positions whose
        // plan could not be made).
        let scope: [PositionKey]
        if refresh.full {
            scope = Array(Set(book.keys).union(planBook.keys))
        } else {
            scope = Array(refresh.changed.union(missingSince.keys).union(suspect).union(lacking))
        }

        // Positions without a plan: planned here, created in one pipelined round trip, each
        // position its own atomic get-or-create (a plan the execution service stored a moment
        // earlier wins, and is what we keep).
        var createdNow: Set<PositionKey> = []
        if enabled {
            var candidates: [ExitPlan] = []
            for key in scope {
                guard let position = book[key], planBook[key] == nil else { continue }
                logger.warning(
                    "no exit plan found, creating retroactively",
                    metadata: ["key": "\(key)", "quantity": "\(position.quantity)", "entry_price": "\(position.entryPrice)"])
                let input = PlannerInput.retroactive(
                    symbol: key.symbol, side: key.side, entryPrice: position.entryPrice, quantity: position.quantity,
                    leverage: position.leverage, markPrice: position.markPrice, profile: profile,
                    planId: RandomUUID.string(), now: now, feeRate: planner.feeRate)
                do {
                    candidates.append(try planner.makePlan(input))
                } catch {
                    await alerts.raise(AlertEvent(severity: .critical, code: "PLAN_NOT_POSSIBLE", message: error.message, key: key.description))
                }
            }
            var createdKeys: [(PositionKey, String)] = []
            for (plan, outcome) in zip(candidates, try await self.book.getOrCreateMany(candidates, retroactive: true, now: now)) {
                switch outcome {
                case .success(let creation):
                    // Not written into the book: the book holds only what was read, so that it
                    // can never keep a plan Redis no longer has. The plan's event (or the next
                    // full read) brings it in.
                    createdNow.insert(plan.key)
                    guard creation.created else { continue }
                    result.created += 1
                    createdKeys.append((plan.key, plan.planId))
                    Counter(.plansCreated, dimensions: [("source", "RETROACTIVE")]).increment()
                    Counter(.retroactivePlans).increment()
                case .failure(let error):
                    await alerts.raise(AlertEvent(severity: .critical, code: "PLAN_NOT_CREATED", message: error.message, key: plan.key.description))
                }
            }
            // One info alert per position, up to a handful a pass; beyond that one summary, so a
            // book imported without plans does not flood the alert channel.
            var notices = createdKeys.prefix(Self.individualAlerts).map { key, planId in
                AlertEvent(
                    severity: .info, code: "PLAN_CREATED_RETROACTIVELY", message: "position had no exit plan; created \(planId)",
                    key: key.description)
            }
            if createdKeys.count > Self.individualAlerts {
                let rest = createdKeys.count - Self.individualAlerts
                notices.append(
                    AlertEvent(
                        severity: .info, code: "PLANS_CREATED_RETROACTIVELY",
                        message:
                            "\(createdKeys.count) positions had no exit plan; plans created for all (\(rest) not alerted one by one, see exit_plan.created events)",
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
            let outcome = try await self.book.close(
                closed, expectedVersion: plan.version, realizedPnl: executor.realizedPnl(plan: closed),
                position: .keep, orders: [], now: now)
            missingSince[key] = nil
            if outcome == .written || outcome == .missing {
                mirror.forgetPlan(key)
                planBook[key] = nil
            }
            if outcome == .written {
                result.closed += 1
                Counter(.stalePlansClosed).increment()
                Counter(.plansClosed, dimensions: [("reason", "POSITION_CLOSED")]).increment()
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
            let why =
                qtyOff ? "plan quantity \(plan.remainingQuantity) differs from position \(position.quantity)" : "plan has no pending stop-loss leg"
            await alerts.raise(
                AlertEvent(
                    severity: .warning, code: qtyOff ? "PLAN_QUANTITY_MISMATCH" : "PLAN_WITHOUT_SL", message: why + "; re-planning",
                    key: key.description))
            do {
                let input = PlannerInput.retroactive(
                    symbol: key.symbol, side: key.side, entryPrice: position.entryPrice, quantity: position.quantity,
                    leverage: position.leverage, markPrice: position.markPrice, context: plan.context, profile: profile,
                    planId: plan.planId, now: now, feeRate: planner.feeRate)
                let repaired = try planner.replan(existing: plan, input: input)
                let event = PlanUpdatedEvent(
                    key: key.description, planId: plan.planId, version: repaired.version, change: "REPAIRED", changes: ["REPAIRED"])
                switch try await self.book.update(repaired, expectedVersion: plan.version, event: event, position: nil, orders: [], now: now) {
                case .written:
                    result.repaired += 1
                    logger.warning("re-planned inconsistent exit plan", metadata: ["key": "\(key)", "plan_id": "\(plan.planId)", "reason": "\(why)"])
                case .missing:
                    mirror.forgetPlan(key)
                    planBook[key] = nil
                case .conflict:
                    mirror.requireFullRead()  // it changed under us; read it again rather than trust the book
                }
            } catch let error as DomainError {
                await alerts.raise(AlertEvent(severity: .critical, code: "PLAN_NOT_POSSIBLE", message: error.message, key: key.description))
            } catch {
                throw error as? CoordinationError ?? CoordinationError(.redis, "\(error)")
            }
        }
        suspect = nowSuspect
        if let stopsRestAtVenue {
            result.unprotected = try await checkProtection(positions: book, plans: planBook, restsAtVenue: stopsRestAtVenue, clock: clock)
        }
        lacking = Set(scope.filter { book[$0] != nil && planBook[$0] == nil && !createdNow.contains($0) })

        result.roundTrips = self.book.roundTrips - trips
        result.seconds = (clock.now - start).secondsValue
        totals.created += result.created
        totals.closed += result.closed
        totals.repaired += result.repaired
        totals.unprotected = result.unprotected
        totals.positions = result.positions
        totals.plans = result.plans
        last = result
        lastPassAt = clock.now
        Gauge(.reconcileDuration).record(result.seconds)
        Gauge(.reconcilePositions).record(Double(result.positions))
        Gauge(.plansActive).record(Double(result.plans + result.created - result.closed))
        finished = true
        return result
    }

    /// Every open position whose exits rest at the venue must have a resting stop (a `NEW` or
    /// `PARTIALLY_FILLED` stop-market record) under its plan's SL client id. One without it for
    /// the protection grace raises `POSITION_UNPROTECTED` (critical, once until it is protected
    /// again); the count goes to `exitbrain_positions_unprotected`. One read of `{ns}:orders`;
    /// only stop records are decoded.
    private func checkProtection(
        positions: [PositionKey: PositionSnapshot], plans: [PositionKey: ExitPlan], restsAtVenue: (String) -> Bool, clock: ContinuousClock
    ) async throws(CoordinationError) -> Int {
        let stopMarker = Array(#""type":"STOP_MARKET""#.utf8)
        var resting: Set<String> = []
        for row in try await book.orderRecords() where row.bytes.contains(stopMarker) {
            guard let record = try? OrderWrite.decode(row.bytes, field: row.field) else { continue }
            if record.status == .new || record.status == .partiallyFilled { resting.insert(record.clientOrderId) }
        }
        var unprotected: [PositionKey] = []
        for (key, position) in positions where position.quantity > 0 && restsAtVenue(key.symbol) {
            let stop = plans[key]?.stopLossLeg.flatMap { $0.status == .pending ? $0.clientOrderId : nil }
            if let stop, resting.contains(stop) {
                unprotectedSince[key] = nil
                alertedUnprotected.remove(key)
                continue
            }
            let since = unprotectedSince[key] ?? clock.now
            unprotectedSince[key] = since
            if clock.now - since >= protectionGrace { unprotected.append(key) }
        }
        for key in unprotectedSince.keys where positions[key] == nil {
            unprotectedSince[key] = nil
            alertedUnprotected.remove(key)
        }
        var alertsNow: [AlertEvent] = []
        for key in unprotected.sorted(by: { $0.description < $1.description }) where alertedUnprotected.insert(key).inserted {
            let why = plans[key] == nil ? "it has no exit plan" : "its plan's stop-loss order is not resting at the venue"
            logger.critical("position unprotected", metadata: ["key": "\(key)", "reason": "\(why)"])
            alertsNow.append(
                AlertEvent(
                    severity: .critical, code: "POSITION_UNPROTECTED", message: "open position \(key) has no resting stop: \(why)",
                    key: key.description))
        }
        await alerts.raise(alertsNow)
        Gauge(.positionsUnprotected).record(Double(unprotected.count))
        return unprotected.count
    }
}
