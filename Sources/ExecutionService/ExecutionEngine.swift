import ExitBrainCoordination
import ExitBrainDomain
import ExitBrainService
import Foundation
import Logging
import Metrics
import Venue

/// The execution service's state machine: signals become entry orders at the venue; fills
/// become positions and plans; a plan's exits rest at the venue (`EXIT_ORDERS=VENUE`) or go
/// out as market orders when a level is crossed (`ON_TRIGGER`); every order goes through the
/// lifecycle of docs/contract.md §11 in `{ns}:orders` (the order files in this module).
///
/// Redis is the record: the in-memory plan cache is refreshed from it at start and every few
/// seconds, and a conflict on write reloads the stored plan. The venue is the truth about
/// positions and orders: the engine reconciles with it at start and after any gap in its events.
public actor ExecutionEngine {
    let config: ExecutionConfiguration
    let book: any BookStore
    let venue: any Venue
    private let mirror: BookMirror
    private let planner: Planner
    let executor: PlanExecutor
    let logger: Logger
    let now: @Sendable () -> Date
    let clock = ContinuousClock()
    /// The bucket leases this instance holds (docs/contract.md §12); nil: it acts on every symbol.
    let leases: LeaseTable?
    /// Buckets taken whose records and plans are still being read.
    var loading: Set<Int> = []
    /// Signals for buckets no instance held when they came (a start, a takeover), kept for
    /// one lease time: handled if this instance takes the bucket by then.
    var pendingSignals: [(signal: TradeSignal, meta: EnvelopeMeta, until: ContinuousClock.Instant)] = []
    /// At most this many signals wait for a bucket.
    static let pendingSignalLimit = 10_000
    /// Plans or records a long pass over all of them handles between two yields to the other
    /// work waiting for the engine (a price, a fill waits at most one slice).
    static let passSlice = 256

    var planCache = BoxedDictionary<PositionKey, ExitPlan>()
    var lastPrice: [String: Double] = [:]
    private var dirtyPrices: [String: Double] = [:]
    private var shadowSent: [String: Set<String>] = [:]
    private let activePlans = Gauge(.plansActive)

    /// Every order record the engine knows, by client order id.
    var records = BoxedDictionary<String, OrderRecord>()
    /// Client ids of the records that may still be working, by position.
    var working: [PositionKey: Set<String>] = [:]
    /// Requests and cancels under way (a re-entrant call leaves them alone).
    var inFlight: Set<String> = []
    /// Intents not sent yet because the venue was busy or unreachable, and when to try again.
    var retryAt: [String: ContinuousClock.Instant] = [:]
    /// Orders sent without an answer, and how their resolution by query goes.
    var unknown: [String: UnknownQuery] = [:]
    /// Why the engine cancelled an order (the `reason` of `order.canceled`).
    var cancelReasons: [String: String] = [:]
    /// The context of an entry whose fill is still to come (it is planned with it).
    var entryContexts: [String: PlanContext] = [:]
    /// Since when the price is past a resting stop that has not filled.
    var stopCrossedSince: [PositionKey: ContinuousClock.Instant] = [:]
    /// Positions that may have working exit orders of no current plan (their plan went or
    /// changed, or an order of another plan was seen): checked at the next pass, not all of them
    /// four times a second.
    var orphanSuspects: Set<PositionKey> = []
    /// Quantity and entry price of each open position's last `position.updated`.
    var announcedPositions: [PositionKey: (Double, Double)] = [:]
    let unknownGauge = Gauge(.ordersUnknown)
    /// When every plan's orders were last checked against what it needs.
    var lastFullKeep: ContinuousClock.Instant?
    /// Positions whose orders are to be worked on by ``workOrders()``, in order, once each.
    private var keepQueue: [PositionKey] = []
    private var queued: Set<PositionKey> = []
    private var workingBatch = false
    private let orderWork: AsyncStream<Void>
    private let orderWorkBell: AsyncStream<Void>.Continuation

    /// Resyncs under way, and when the cache changed meanwhile (``noteCacheChange(_:)``).
    private var resyncsUnderWay = 0
    private var cacheChanges: UInt64 = 0
    private var changedDuringResync: [PositionKey: UInt64] = [:]

    /// An engine over the book and the venue; `now` is the clock (tests pass their own).
    /// `reader` is what the periodic reads of every plan go through (the service gives it a
    /// connection of its own, so that writes never queue behind a full read); by default `book`.
    public init(
        config: ExecutionConfiguration, book: any BookStore, venue: any Venue, logger: Logger, leases: LeaseTable? = nil,
        reader: (any BookReading)? = nil, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.config = config
        self.leases = leases
        self.book = book
        self.venue = venue
        mirror = BookMirror(book: reader ?? book, hashes: [.plans], retainsRecords: false)
        self.planner = Planner(feeRate: config.common.feeRate)
        self.executor = PlanExecutor(feeRate: config.common.feeRate)
        self.logger = logger
        self.now = now
        (orderWork, orderWorkBell) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks ``workOrders()`` to bring the position's orders in line with its plan: a signal or
    /// a tick does not wait for resting orders to be placed (the engine does that between its
    /// other work, at once).
    func keepSoon(_ key: PositionKey) {
        guard restsAtVenue(key.symbol), queued.insert(key).inserted else { return }
        keepQueue.append(key)
        orderWorkBell.yield()
    }

    /// Works the queued positions' orders until cancelled (the service runs it beside its other loops).
    public func workOrders() async {
        for await _ in orderWork {
            workingBatch = true
            while !keepQueue.isEmpty {
                let batch = keepQueue
                keepQueue = []
                queued = []
                for key in batch {
                    if let plan = planCache[key] { await keepOrders(plan) }
                }
            }
            workingBatch = false
        }
    }

    /// True while orders are queued or out at the venue.
    public var orderWorkPending: Bool { workingBatch || !keepQueue.isEmpty || !inFlight.isEmpty }

    /// How many plans this engine manages now.
    public var activePlanCount: Int { planCache.count }

    /// The cached plan for a position.
    public func cachedPlan(_ key: PositionKey) -> ExitPlan? { planCache[key] }

    /// The order records this engine knows, by client order id.
    public var orderRecords: [String: OrderRecord] { records.dictionary }

    /// How many orders wait for an answer (UNKNOWN).
    public var unknownCount: Int { unknown.count }

    /// Whether this instance holds the lease of the symbol's bucket now (always, without
    /// leases): it may write and send for it, and takes its signals.
    func holds(_ symbol: String) -> Bool { leases?.holds(symbol) ?? true }

    /// Whether it acts on the symbol's plans now: it holds the lease and has read the bucket's
    /// order records and plans since taking it (prices and the keeping of resting orders wait
    /// for that; a new signal does not need it).
    func owns(_ symbol: String) -> Bool {
        guard let leases else { return true }
        return leases.holds(symbol) && (loading.isEmpty || !loading.contains(leases.buckets.bucket(of: symbol)))
    }

    // MARK: - events

    /// Handles one validated event; returns a rejection when a later rule refuses it.
    public func handle(_ event: InboundEvent) async -> EventRejection? {
        switch event {
        case .signal(let signal, let meta):
            guard holds(signal.symbol) else {
                // Another instance's bucket: that instance takes the signal. A bucket nobody
                // holds (a start, a takeover under way): the signal waits for one lease time.
                if let leases, !leases.heldByAnother(signal.symbol) {
                    if pendingSignals.count >= Self.pendingSignalLimit { pendingSignals.removeFirst() }
                    pendingSignals.append((signal, meta, clock.now + leases.ttl))
                    return nil
                }
                Counter(.signals, dimensions: [("result", "elsewhere"), ("reason", "")]).increment()
                return nil
            }
            do {
                try await handleSignal(signal, meta: meta)
                Counter(.signals, dimensions: [("result", "accepted"), ("reason", "")]).increment()
                return nil
            } catch let rejection as EventRejection {
                Counter(.signals, dimensions: [("result", "rejected"), ("reason", rejection.reason.rawValue)]).increment()
                return rejection
            } catch {
                logger.error("signal not processed", metadata: ["symbol": "\(signal.symbol)", "error": "\(error)"])
                Counter(.signals, dimensions: [("result", "failed"), ("reason", "redis")]).increment()
                return nil
            }
        case .tick(let tick, _):
            await handleTick(tick)
            return nil
        case .heartbeat:
            return nil
        }
    }

    /// Signals that waited for a bucket: those of buckets now held are handled, in order; those
    /// of buckets another instance took are its; those whose wait is over are dropped, each
    /// with a warning.
    func handlePendingSignals() async {
        guard !pendingSignals.isEmpty else { return }
        let now = clock.now
        var waiting: [(signal: TradeSignal, meta: EnvelopeMeta, until: ContinuousClock.Instant)] = []
        let due = pendingSignals
        pendingSignals = []
        for entry in due {
            if holds(entry.signal.symbol) {
                _ = await handle(.signal(entry.signal, entry.meta))
            } else if leases?.heldByAnother(entry.signal.symbol) == true {
                // Another instance took the bucket (and the signal: it came to every instance).
                Counter(.signals, dimensions: [("result", "elsewhere"), ("reason", "")]).increment()
            } else if entry.until > now {
                waiting.append(entry)
            } else {
                Counter(.signals, dimensions: [("result", "dropped"), ("reason", "no_bucket_holder")]).increment()
                logger.warning(
                    "signal dropped: no execution instance held its bucket within one lease time",
                    metadata: ["signal_id": "\(entry.meta.id)", "symbol": "\(entry.signal.symbol)"])
            }
        }
        pendingSignals = waiting + pendingSignals
    }

    /// A signal: an entry order at the venue (or a close at market); its fill plans the position.
    public func handleSignal(_ signal: TradeSignal, meta: EnvelopeMeta) async throws {
        let key = PositionKey(symbol: signal.symbol, side: signal.side.positionSide)
        // With a venue that has its own prices, its mark price rules (a signal's price is the
        // sender's view); otherwise the signal's, or the last tick's.
        var price: Double?
        if config.venueOwnsBook {
            price = lastPrice[signal.symbol]
            if price == nil, let mark = try? await venue.markPrice(signal.symbol) { price = mark.doubleValue }
        }
        price = price ?? signal.price ?? lastPrice[signal.symbol]
        if price == nil { price = try? await book.lastPrice(signal.symbol) }
        guard let marketPrice = price else {
            throw EventRejection(.noPrice, "no price for \(signal.symbol): send a market.tick first or give a price")
        }
        lastPrice[signal.symbol] = marketPrice
        await venue.observe(symbol: signal.symbol, price: Decimal(rounding: marketPrice))
        let at = now()
        if signal.action == .close {
            try await closeAtMarket(key, price: marketPrice, signalId: meta.id, at: at)
            return
        }
        let orderId = "en-" + FNV1a.hex64(meta.id)
        guard records[orderId] == nil else {
            logger.info("duplicate signal ignored", metadata: ["signal_id": "\(meta.id)", "client_order_id": "\(orderId)"])
            return
        }
        let rules = try await rules(for: signal.symbol)
        let quantity = rules.quantity(Decimal(rounding: signal.quantity), for: .market)
        guard quantity > 0 else {
            throw EventRejection(.invalidNumber, "quantity \(signal.quantity) is below the venue's step \(rules.marketStepSize) for \(signal.symbol)")
        }
        let request = OrderRequest(
            clientOrderId: orderId, symbol: signal.symbol, side: signal.side, positionSide: key.side, purpose: .entry, type: .market,
            quantity: quantity, leverage: signal.leverage)
        let intent = OrderRecord(intent: request, key: key, planId: nil, legIndex: nil, at: at)
        // The intent first (HSETNX): a request that may have left is never forgotten, and a
        // signal seen before (redelivered, or before a restart) is not sent again.
        guard try await book.insertIntent(try OrderWrite.intent(intent)) else {
            logger.info("duplicate signal ignored", metadata: ["signal_id": "\(meta.id)", "client_order_id": "\(orderId)"])
            return
        }
        know(intent)
        entryContexts[orderId] = signal.context
        if let refusal = await send(intent, request: request) {
            throw EventRejection(.refusedByVenue, "entry \(orderId) refused by the venue: \(refusal)")
        }
    }

    /// An entry filled (in part or whole): the position is read from the venue and planned.
    /// `writes` (the record's update and its events) go in the same round trip as the plan.
    func entryFilled(_ record: OrderRecord, increment: Decimal, writes: BookWrites) async {
        let at = now()
        let context = record.status.isFinal ? entryContexts.removeValue(forKey: record.clientOrderId) : entryContexts[record.clientOrderId]
        // A filled entry is done once planned: its record lives on in Redis only (a signal seen
        // again finds its intent there).
        defer { if record.status.isFinal { forgetRecord(record.clientOrderId) } }
        Counter(.fills, dimensions: [("purpose", OrderPurpose.entry.rawValue)]).increment()
        var all = writes
        do {
            guard let position = try await venue.position(record.key) else {
                try await book.commit(all)
                return
            }
            await takeUnseenExits(of: record.key, holding: position.quantity, after: increment)
            let snapshot = snapshot(of: position, at: at)
            // A venue that owns its book: the position is in `{ns}:positions` before its plan,
            // so the monitor never sees the plan without it (the stream may be down).
            await mirror(position, snapshot: snapshot)
            if announcedPosition(snapshot) { try all.publish(.positionUpdated, snapshot, now: at) }
            guard config.common.exitBrainEnabled else {
                try await book.commit(all)
                return
            }
            try await planPosition(snapshot, context: context ?? PlanContext(), at: at, after: all)
        } catch {
            logger.error(
                "entry fill not planned; the monitor will plan the position",
                metadata: ["key": "\(record.key)", "client_order_id": "\(record.clientOrderId)", "error": "\(error)"])
            try? await book.commit(all)
        }
    }

    /// A position as the snapshot of docs/contract.md §7.
    func snapshot(of position: VenuePosition, at: Date) -> PositionSnapshot {
        let mark = position.markPrice?.doubleValue ?? lastPrice[position.key.symbol] ?? position.entryPrice.doubleValue
        let quantity = position.quantity.doubleValue
        let entry = position.entryPrice.doubleValue
        return PositionSnapshot(
            symbol: position.key.symbol, side: position.key.side, quantity: quantity, entryPrice: entry, markPrice: mark,
            leverage: position.leverage ?? 1, unrealizedPnl: Rounding.price((mark - entry) * quantity * position.key.side.sign),
            openedAt: nil, updatedAt: at)
    }

    /// Creates the plan for a position, or re-plans the stored one for its new quantity, with the
    /// intents of its resting orders in the same step. `writes` go in the same write as the first attempt.
    private func planPosition(_ snapshot: PositionSnapshot, context: PlanContext, at: Date, after writes: BookWrites) async throws {
        let key = snapshot.key
        let input = PlannerInput(
            position: snapshot, context: context, profile: config.common.profile, source: .execution,
            planId: RandomUUID.string(), now: at, feeRate: config.common.feeRate)
        let candidate: ExitPlan
        do { candidate = try planner.makePlan(input) } catch {
            // The fill stands even when no plan can be made for it; the monitor will alert.
            try await book.commit(writes)
            throw EventRejection(.rejectedByPlanner, error.message)
        }
        let orders = try await intents(for: candidate)
        let firstCreation = try await book.getOrCreate(candidate, retroactive: false, now: at, after: writes, orders: orders)
        if firstCreation.created {
            // Its intents are known as written: keeping its orders sends them, no write again.
            created(firstCreation.plan)
            knowIntents(orders)
            keepSoon(key)
            return
        }
        var stored: ExitPlan? = firstCreation.plan
        for attempt in 0..<3 {
            if attempt > 0 { stored = try await book.plan(key) }
            if let existing = stored {
                let replanned: ExitPlan
                do { replanned = try planner.replan(existing: existing, input: input) } catch {
                    throw EventRejection(.rejectedByPlanner, error.message)
                }
                let event = PlanUpdatedEvent(
                    key: key.description, planId: existing.planId, version: replanned.version, change: "REPLANNED", changes: ["REPLANNED"])
                let replannedOrders = try await intents(for: replanned)
                let outcome = try await book.update(
                    replanned, expectedVersion: existing.version, event: event, position: nil, orders: replannedOrders, now: at)
                if outcome == .written {
                    remember(replanned)
                    knowIntents(replannedOrders)
                    logger.info(
                        "re-planned exit plan",
                        metadata: [
                            "key": "\(key)", "plan_id": "\(existing.planId)", "version": "\(replanned.version)",
                            "quantity": "\(replanned.initialQuantity)",
                        ])
                    keepSoon(key)
                    return
                }
                continue
            }
            let creation = try await book.getOrCreate(candidate, retroactive: false, now: at, after: book.writes(), orders: orders)
            if creation.created {
                created(creation.plan)
                knowIntents(orders)
                keepSoon(key)
                return
            }
            stored = creation.plan
        }
        logger.warning("plan kept changing under us; the monitor will reconcile", metadata: ["key": "\(key)"])
    }

    /// Books a plan this service created.
    private func created(_ plan: ExitPlan) {
        remember(plan)
        Counter(.plansCreated, dimensions: [("source", "EXECUTION")]).increment()
        logger.info("created exit plan", metadata: Self.planMetadata(plan))
        if plan.trailing.enabled {
            logger.info(
                "using trail config",
                metadata: [
                    "key": "\(plan.key)", "plan_id": "\(plan.planId)",
                    "callback_pct": "\(plan.trailing.callbackPct)",
                    "activation_price": "\(plan.trailing.activationPrice ?? 0)",
                ])
        }
    }

    /// Closes a side at market (signal action CLOSE): the close order's intent travels with the
    /// plan's close, the order follows, and the plan's resting orders are cancelled.
    private func closeAtMarket(_ key: PositionKey, price: Double, signalId: String, at: Date) async throws {
        guard let position = try await venue.position(key) else {
            throw EventRejection(.noPosition, "no open \(key) position to close")
        }
        let plan = try await book.plan(key)
        let rules = try await rules(for: key.symbol)
        // One close order per signal: a CLOSE delivered twice is one order.
        let orderId = "cl-" + FNV1a.hex64(signalId)
        let request = OrderRequest(
            clientOrderId: orderId, symbol: key.symbol, side: key.side.exitOrderSide, positionSide: key.side, purpose: .exit,
            type: .market, quantity: rules.quantity(position.quantity, for: .market))
        let intent = OrderRecord(intent: request, key: key, planId: plan?.planId, legIndex: nil, at: at)
        if let plan {
            let closed = executor.close(plan: plan, reason: .positionClosed, now: at)
            let pnl = Rounding.price(
                (price - position.entryPrice.doubleValue) * position.quantity.doubleValue * key.side.sign
                    - config.common.feeRate * price * position.quantity.doubleValue)
            let outcome = try await book.close(
                closed, expectedVersion: plan.version, realizedPnl: pnl, position: .keep, orders: [try .intent(intent)], now: at)
            if outcome == .written {
                forget(key)
                Counter(.plansClosed, dimensions: [("reason", ClosedReason.positionClosed.rawValue)]).increment()
                logger.info(
                    "exit plan closed",
                    metadata: ["key": "\(key)", "plan_id": "\(plan.planId)", "closed_reason": "POSITION_CLOSED", "realized_pnl": "\(pnl)"])
            } else if try await !book.insertIntent(try .intent(intent)) {
                return
            }
        } else if try await !book.insertIntent(try .intent(intent)) {
            logger.info("duplicate close signal ignored", metadata: ["signal_id": "\(signalId)", "client_order_id": "\(orderId)"])
            return
        }
        know(intent)
        _ = await send(intent)
        await cancelWorking(of: key, except: orderId, reason: "POSITION_CLOSED")
    }

    /// A bus tick: the paper venue trades on it, then every plan of the symbol is evaluated.
    public func handleTick(_ tick: MarketTick) async {
        // A real venue's mark price stream drives decisions; bus ticks are not used there.
        guard !config.venueOwnsBook else { return }
        // The paper venue is the market: it sees every price of a held bucket, also while the
        // bucket's records are still being read (its resting orders fill as at a venue); the
        // plans' own reaction waits for that read (handlePrice).
        guard holds(tick.symbol) else {
            lastPrice[tick.symbol] = tick.price
            return
        }
        dirtyPrices[tick.symbol] = tick.price
        await venue.observe(symbol: tick.symbol, price: Decimal(rounding: tick.price))
        await handlePrice(symbol: tick.symbol, price: tick.price)
    }

    /// A price (a bus tick after the paper venue saw it, or a venue's mark price).
    func handlePrice(symbol: String, price: Double) async {
        lastPrice[symbol] = price
        guard owns(symbol) else { return }
        if config.venueOwnsBook { dirtyPrices[symbol] = price }
        guard config.common.exitBrainEnabled, config.exitMode == .exitBrainV3 else { return }
        for side in [PositionSide.long, .short] {
            let key = PositionKey(symbol: symbol, side: side)
            guard let plan = planCache[key] else { continue }
            await evaluate(plan, price: price)
        }
    }

    /// True when this symbol's exits rest at the venue: `EXIT_ORDERS=VENUE` and live.
    func restsAtVenue(_ symbol: String) -> Bool {
        config.exitOrders == .venue && config.common.exitBrainEnabled && config.mode(for: symbol) == .live
    }

    /// Runs one plan against one price and applies what comes out.
    public func evaluate(_ plan: ExitPlan, price: Double) async {
        let at = now()
        let mode = config.mode(for: plan.symbol)
        let resting = restsAtVenue(plan.symbol)
        let evaluation = executor.evaluate(plan: plan, price: price, now: at, mode: mode, restingExits: resting)
        if mode == .shadow {
            for d in evaluation.decisions {
                let id = "\(d.legIndex):\(plan.version)"
                guard shadowSent[plan.planId, default: []].insert(id).inserted else { continue }
                Counter(.legsTriggered, dimensions: [("kind", d.kind.rawValue), ("shadow", "true")]).increment()
                await publish(
                    .legTriggered,
                    LegTriggeredEvent(
                        key: plan.key.description, planId: plan.planId, legIndex: d.legIndex, kind: d.kind,
                        price: price, quantity: d.quantity, clientOrderId: d.clientOrderId, shadow: true))
                logger.info(
                    "shadow exit decision",
                    metadata: [
                        "key": "\(plan.key)", "plan_id": "\(plan.planId)", "leg": "\(d.legIndex)", "kind": "\(d.kind.rawValue)", "price": "\(price)",
                    ])
            }
            return
        }
        if resting, await superviseStop(plan, price: price) { return }
        guard evaluation.changed || !evaluation.decisions.isEmpty else { return }
        do {
            try await apply(evaluation, from: plan, price: price, at: at, resting: resting)
        } catch {
            logger.error(
                "exit step not stored; will retry on the next price",
                metadata: ["key": "\(plan.key)", "plan_id": "\(plan.planId)", "error": "\(error)"])
        }
    }

    /// The supervisor of a resting stop: a price past it for 3 s with no fill reported is an
    /// exit at market (a stop stuck at the venue). True when it sent that exit.
    func superviseStop(_ plan: ExitPlan, price: Double) async -> Bool {
        guard let sl = plan.stopLossLeg, sl.status == .pending else { return false }
        let past = plan.side == .long ? price <= sl.triggerPrice : price >= sl.triggerPrice
        guard past else {
            stopCrossedSince[plan.key] = nil
            return false
        }
        let since = stopCrossedSince[plan.key] ?? clock.now
        stopCrossedSince[plan.key] = since
        guard clock.now - since >= .seconds(3) else { return false }
        stopCrossedSince[plan.key] = nil
        logger.warning(
            "price past the resting stop for 3 s with no fill; exiting at market",
            metadata: ["key": "\(plan.key)", "plan_id": "\(plan.planId)", "stop_price": "\(sl.triggerPrice)", "price": "\(price)"])
        await exitAtMarket(plan, price: price)
        return true
    }

    /// Exits what the plan's crossed levels close, at market, whatever rests at the venue.
    func exitAtMarket(_ plan: ExitPlan, price: Double) async {
        let at = now()
        let evaluation = executor.evaluate(plan: plan, price: price, now: at, mode: .live, restingExits: false)
        guard !evaluation.decisions.isEmpty else { return }
        do { try await apply(evaluation, from: plan, price: price, at: at, resting: false) } catch {
            logger.error("market exit not stored", metadata: ["key": "\(plan.key)", "plan_id": "\(plan.planId)", "error": "\(error)"])
        }
    }

    /// Writes an evaluation: the plan change with the intents of its market exits (decisions)
    /// and of the resting orders it now needs, in one atomic step; then the orders. Market exits
    /// leave in the venue's lots: an evaluation with decisions is made again with the lot, so the
    /// plan records what leaves (its fills then add up to the venue's).
    private func apply(_ first: Evaluation, from plan: ExitPlan, price: Double, at: Date, resting: Bool) async throws {
        let key = plan.key
        let rules = try await rules(for: plan.symbol)
        let evaluation =
            first.decisions.isEmpty
            ? first
            : executor.evaluate(
                plan: plan, price: price, now: at, mode: .live, restingExits: resting, lot: rules.step(for: .market).doubleValue)
        let next = evaluation.plan
        var exits: [OrderRecord] = []
        // What closes the plan closes the position: the last exit takes what the venue holds
        // beyond the others (the plan's quantities carry remainders finer than the venue's step,
        // which would otherwise be left open without a plan).
        let closes = next.status == .closed || next.remainingQuantity <= 0
        let held: Decimal? = closes ? (try? await venue.position(key))?.map(\.quantity) : nil
        for (n, d) in evaluation.decisions.enumerated() {
            precondition(d.reduceOnly, "exit orders are reduce-only")
            // A leg whose order rests at the venue exits at market under an id of its own.
            let id = records[d.clientOrderId] == nil ? d.clientOrderId : "em-" + d.clientOrderId.dropFirst(3)
            var quantity = rules.quantity(Decimal(rounding: d.quantity), for: .market)
            if let held, n == evaluation.decisions.count - 1 {
                quantity = rules.quantity(max(0, held - exits.reduce(0) { $0 + $1.quantity }), for: .market)
            }
            let request = OrderRequest(
                clientOrderId: id, symbol: plan.symbol, side: d.orderSide, positionSide: plan.side, purpose: .exit,
                type: .market, quantity: quantity)
            guard request.quantity > 0, records[id] == nil else { continue }
            exits.append(OrderRecord(intent: request, key: key, planId: plan.planId, legIndex: d.legIndex, at: at))
        }
        var orders = try exits.map { (r) throws(CoordinationError) in try OrderWrite.intent(r) }
        if closes {
            let pnl = executor.realizedPnl(plan: next)
            let outcome = try await book.close(next, expectedVersion: plan.version, realizedPnl: pnl, position: .keep, orders: orders, now: at)
            guard try await settle(outcome, key: key) else { return }
            forget(key)
            Counter(.plansClosed, dimensions: [("reason", next.closedReason?.rawValue ?? "UNKNOWN")]).increment()
            logger.info(
                "exit plan closed",
                metadata: [
                    "key": "\(key)", "plan_id": "\(plan.planId)", "closed_reason": "\(next.closedReason?.rawValue ?? "")",
                    "realized_pnl": "\(pnl)",
                ])
        } else {
            let resting = try await intents(for: next)
            orders += resting
            let changes = evaluation.changes.map(\.rawValue)
            let event = PlanUpdatedEvent(
                key: key.description, planId: plan.planId, version: next.version, change: changes.first ?? "LEG_FILLED", changes: changes)
            let outcome = try await book.update(next, expectedVersion: plan.version, event: event, position: nil, orders: orders, now: at)
            guard try await settle(outcome, key: key) else { return }
            remember(next)
            knowIntents(resting)
            logStopMove(from: plan, to: next, changes: evaluation.changes)
        }
        for record in exits { know(record) }
        for d in evaluation.decisions {
            Counter(.legsTriggered, dimensions: [("kind", d.kind.rawValue), ("shadow", "false")]).increment()
            logger.info(
                "exit leg triggered",
                metadata: [
                    "key": "\(key)", "plan_id": "\(plan.planId)", "leg": "\(d.legIndex)", "kind": "\(d.kind.rawValue)",
                    "quantity": "\(d.quantity)", "price": "\(price)", "client_order_id": "\(d.clientOrderId)",
                ])
            await publish(
                .legTriggered,
                LegTriggeredEvent(
                    key: key.description, planId: plan.planId, legIndex: d.legIndex, kind: d.kind,
                    price: price, quantity: d.quantity, clientOrderId: d.clientOrderId, shadow: false))
        }
        for record in exits { _ = await send(record) }
        if planCache[key] != nil {
            keepSoon(key)
        } else {
            await cancelWorking(of: key, except: nil, reason: "POSITION_CLOSED")
        }
    }

    /// The log lines of docs/contract.md §10 for a stop that moved.
    func logStopMove(from plan: ExitPlan, to next: ExitPlan, changes: [PlanChange]) {
        guard changes.contains(.slMoved), let sl = next.stopLossLeg else { return }
        let tp1Filled = next.legs.first { $0.kind == .takeProfit }?.status == .filled
        let wasFilled = plan.legs.first { $0.kind == .takeProfit }?.status == .filled
        if tp1Filled && !wasFilled {
            logger.info("moved stop to breakeven", metadata: ["key": "\(next.key)", "plan_id": "\(next.planId)", "stop_price": "\(sl.triggerPrice)"])
        } else {
            logger.info("moved stop", metadata: ["key": "\(next.key)", "plan_id": "\(next.planId)", "stop_price": "\(sl.triggerPrice)"])
        }
    }

    /// After a write: true when written; on a conflict the stored plan replaces the cached one.
    func settle(_ outcome: PlanStore.Outcome, key: PositionKey) async throws -> Bool {
        switch outcome {
        case .written: return true
        case .missing:
            forget(key)
            return false
        case .conflict(let current):
            if let current, current.isActive { remember(current) } else { forget(key) }
            logger.notice("plan changed elsewhere; reloaded", metadata: ["key": "\(key)", "version": "\(current?.version ?? -1)"])
            return false
        }
    }

    /// The venue's rules for a symbol, as an error a signal can carry.
    func rules(for symbol: String) async throws -> SymbolRules {
        do { return try await venue.rules(for: symbol) } catch {
            throw EventRejection(.refusedByVenue, "no rules for \(symbol) from the venue: \(error)")
        }
    }

    // MARK: - housekeeping

    /// Writes the last prices seen since the previous flush, in one command.
    public func flushPrices() async {
        guard !dirtyPrices.isEmpty else { return }
        let prices = dirtyPrices
        do {
            try await book.recordPrices(prices)
            // Only what was written: a newer price that arrived meanwhile stays for the next flush.
            for (symbol, price) in prices where dirtyPrices[symbol] == price { dirtyPrices[symbol] = nil }
        } catch {
            logger.debug("prices not written", metadata: ["error": "\(error)"])
        }
    }

    /// The next resync reads every plan (events may have been lost: a resubscription, a
    /// Redis primary switch).
    public func readEverythingNext() { mirror.requireFullRead() }

    /// Reloads plans from Redis: picks up plans stored by others (the monitor's retroactive
    /// plans, a restart) and drops plans closed by others. Between the mirror's full reads
    /// (every minute) it reads the field names and only the new plans; plans changed by others
    /// in place, such as a monitor's repair, are seen at the next full read (which decodes only
    /// the plans whose bytes changed since the last) or at the next write's version check. New
    /// plans get their resting orders (unless `keepingOrders` is false: the caller sees to them).
    ///
    /// The read and its decoding run off the engine, which handles prices meanwhile; what it
    /// read is then merged, leaving alone every position whose cached plan the engine changed
    /// while the read was under way (a plan it created is not dropped for being absent from
    /// the read, one it closed is not taken back from it).
    public func resync(keepingOrders: Bool = true) async throws {
        resyncsUnderWay += 1
        let since = cacheChanges
        defer {
            resyncsUnderWay -= 1
            if resyncsUnderWay == 0 { changedDuringResync.removeAll(keepingCapacity: true) }
        }
        let refresh = try await mirror.refresh()
        for bad in refresh.unreadable {
            logger.error("stored plan is not readable; left as it is", metadata: ["key": "\(bad.field)", "error": "\(bad.why)"])
        }
        let untouched = { (key: PositionKey) in (self.changedDuringResync[key] ?? 0) <= since }
        if refresh.full {
            // Every cached plan against the hash's names, once a minute: also a plan whose name
            // the mirror did not hold.
            let present = Set(refresh.planFields)
            for key in planCache.keys.filter({ !present.contains($0.description) && untouched($0) }) { forget(key) }
        } else {
            // Between full reads, only what the mirror saw go: a steady resync costs the engine
            // nothing per plan held.
            for key in refresh.plansGone where planCache[key] != nil && untouched(key) { forget(key) }
        }
        var adopted: [ExitPlan] = []
        for (key, plan) in refresh.readPlans where untouched(key) {
            guard plan.isActive, holds(key.symbol) else {
                if planCache[key] != nil { forget(key) }
                continue
            }
            let mine = planCache[key]
            if let mine, mine.planId == plan.planId, mine.version > plan.version { continue }
            remember(plan)
            if mine?.planId != plan.planId { adopted.append(plan) }
        }
        guard keepingOrders else { return }
        for plan in adopted { keepSoon(plan.key) }
    }

    /// Notes a change of the cached plan of `key` while a resync is under way (its merge
    /// leaves the position alone).
    private func noteCacheChange(_ key: PositionKey) {
        guard resyncsUnderWay > 0 else { return }
        cacheChanges &+= 1
        changedDuringResync[key] = cacheChanges
    }

    func remember(_ plan: ExitPlan) {
        noteCacheChange(plan.key)
        let before = planCache.updateValue(plan, forKey: plan.key)
        if before == nil { mirror.noteKnown(plan: plan.key) }
        if before?.planId != plan.planId, working[plan.key] != nil { orphanSuspects.insert(plan.key) }
        activePlans.record(Double(planCache.count))
    }

    func forget(_ key: PositionKey) {
        noteCacheChange(key)
        // The mirror forgets its name too: a plan stored again under this key (a monitor's
        // retroactive plan) is then new to the next refresh and read within one resync.
        mirror.forgetPlan(key)
        if let p = planCache.removeValue(forKey: key) { shadowSent[p.planId] = nil }
        stopCrossedSince[key] = nil
        if working[key] != nil { orphanSuspects.insert(key) }
        activePlans.record(Double(planCache.count))
    }

    func publish(_ type: EventType, _ value: some Encodable & Sendable) async {
        do {
            try await book.publish(type, value, now: now())
        } catch {
            logger.debug("event not published", metadata: ["type": "\(type.rawValue)", "error": "\(error)"])
        }
    }

    static func planMetadata(_ plan: ExitPlan) -> Logger.Metadata {
        let legs = plan.legs.map { "\($0.kind.rawValue)@\($0.triggerPrice)x\($0.sizePct)" }.joined(separator: " ")
        return [
            "key": "\(plan.key)", "plan_id": "\(plan.planId)", "strategy": "\(plan.strategyId.rawValue)", "source": "\(plan.source.rawValue)",
            "entry_price": "\(plan.entryPrice)", "quantity": "\(plan.initialQuantity)", "legs": "\(legs)",
        ]
    }

}
