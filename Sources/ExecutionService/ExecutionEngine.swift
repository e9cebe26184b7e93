import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import Metrics

/// The execution service's state machine around the paper exchange: signals become entry
/// fills, positions and plans; ticks run each plan through the domain's executor and turn its
/// decisions into reduce-only exit orders, compare-and-set plan writes and closes.
///
/// Redis is the record: the in-memory plan cache is refreshed from it at start and every few
/// seconds, and a conflict on write reloads the stored plan.
public actor ExecutionEngine {
    private let config: ExecutionConfiguration
    private let book: any BookStore
    private let mirror: BookMirror
    private let planner: Planner
    private let executor: PlanExecutor
    private let logger: Logger
    private let now: @Sendable () -> Date

    private var planCache: [PositionKey: ExitPlan] = [:]
    private var lastPrice: [String: Double] = [:]
    private var dirtyPrices: [String: Double] = [:]
    private var shadowSent: [String: Set<String>] = [:]
    private let activePlans = Gauge(.plansActive)

    /// An engine over the book; `now` is the clock (tests pass their own).
    public init(config: ExecutionConfiguration, book: any BookStore, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.config = config
        self.book = book
        mirror = BookMirror(book: book, hashes: [.plans], retainsRecords: false)
        self.planner = Planner(feeRate: config.common.feeRate)
        self.executor = PlanExecutor(feeRate: config.common.feeRate)
        self.logger = logger
        self.now = now
    }

    /// How many plans this engine manages now.
    public var activePlanCount: Int { planCache.count }

    /// The cached plan for a position.
    public func cachedPlan(_ key: PositionKey) -> ExitPlan? { planCache[key] }

    // MARK: - events

    /// Handles one validated event; returns a rejection when a later rule refuses it.
    public func handle(_ event: InboundEvent) async -> EventRejection? {
        switch event {
        case .signal(let signal, let meta):
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

    /// A signal: entry fill (or close), position written and published, plan created or re-planned.
    public func handleSignal(_ signal: TradeSignal, meta: EnvelopeMeta) async throws {
        let key = PositionKey(symbol: signal.symbol, side: signal.side.positionSide)
        var price = signal.price ?? lastPrice[signal.symbol]
        if price == nil { price = try? await book.lastPrice(signal.symbol) }
        guard let marketPrice = price else {
            throw EventRejection(.noPrice, "no price for \(signal.symbol): send a market.tick first or give a price")
        }
        let at = now()
        if signal.action == .close {
            try await closeAtMarket(key, price: marketPrice, at: at)
            return
        }
        let orderId = "en-" + Self.hash(meta.id)
        let fill = paperPrice(side: signal.side, price: marketPrice)
        // Round trip 1: the venue's order record (dedupe by client order id) and the position.
        let entry = try await book.recordOrder(
            PlanStore.PaperOrder(clientOrderId: orderId, price: fill, quantity: signal.quantity, at: at), reading: key)
        guard entry.recorded else {
            logger.info("duplicate signal ignored", metadata: ["signal_id": "\(meta.id)", "client_order_id": "\(orderId)"])
            return
        }
        Counter(.orders, dimensions: [("purpose", OrderPurpose.entry.rawValue)]).increment()
        let previous = entry.position
        var snapshot: PositionSnapshot
        if let p = previous {
            let qty = Rounding.quantity(p.quantity + signal.quantity)
            let entry = Rounding.price((p.entryPrice * p.quantity + fill * signal.quantity) / qty)
            snapshot = PositionSnapshot(
                symbol: key.symbol, side: key.side, quantity: qty, entryPrice: entry, markPrice: marketPrice,
                leverage: signal.leverage, unrealizedPnl: 0, openedAt: p.openedAt ?? at, updatedAt: at)
        } else {
            snapshot = PositionSnapshot(
                symbol: key.symbol, side: key.side, quantity: Rounding.quantity(signal.quantity), entryPrice: Rounding.price(fill),
                markPrice: marketPrice, leverage: signal.leverage, unrealizedPnl: 0, openedAt: at, updatedAt: at)
        }
        snapshot.unrealizedPnl = Rounding.price((marketPrice - snapshot.entryPrice) * snapshot.quantity * key.side.sign)
        // Round trip 2: the position, order.filled, position.updated and the plan's atomic
        // get-or-create, in that order, in one write.
        var fillWrites = book.writes()
        try fillWrites.put(snapshot)
        try fillWrites.publish(
            .orderFilled,
            OrderFilled(
                symbol: key.symbol, side: signal.side, quantity: signal.quantity, price: fill,
                clientOrderId: orderId, purpose: .entry, reduceOnly: false, legIndex: nil), now: at)
        try fillWrites.publish(.positionUpdated, snapshot, now: at)
        guard config.common.exitBrainEnabled else {
            try await book.commit(fillWrites)
            Counter(.fills, dimensions: [("purpose", OrderPurpose.entry.rawValue)]).increment()
            return
        }
        try await planPosition(snapshot, context: signal.context, at: at, after: fillWrites)
    }

    /// Creates the plan for a position, or re-plans the stored one for its new quantity.
    /// `writes` (the fill's position write and events) go in the same write as the first attempt.
    private func planPosition(_ snapshot: PositionSnapshot, context: PlanContext, at: Date, after writes: BookWrites) async throws {
        let key = snapshot.key
        let input = PlannerInput(
            position: snapshot, context: context, profile: config.common.profile, source: .execution,
            planId: RandomUUID.string(), now: at, feeRate: config.common.feeRate)
        let candidate: ExitPlan
        do { candidate = try planner.makePlan(input) } catch {
            // The fill stands even when no plan can be made for it; the monitor will alert.
            try await book.commit(writes)
            Counter(.fills, dimensions: [("purpose", OrderPurpose.entry.rawValue)]).increment()
            throw EventRejection(.rejectedByPlanner, error.message)
        }
        let firstCreation = try await book.getOrCreate(candidate, retroactive: false, now: at, after: writes)
        Counter(.fills, dimensions: [("purpose", OrderPurpose.entry.rawValue)]).increment()
        if firstCreation.created {
            created(firstCreation.plan)
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
                let outcome = try await book.update(replanned, expectedVersion: existing.version, event: event, position: nil, orders: [], now: at)
                if outcome == .written {
                    remember(replanned)
                    logger.info(
                        "re-planned exit plan",
                        metadata: [
                            "key": "\(key)", "plan_id": "\(existing.planId)", "version": "\(replanned.version)",
                            "quantity": "\(replanned.initialQuantity)",
                        ])
                    return
                }
                continue
            }
            let creation = try await book.getOrCreate(candidate, retroactive: false, now: at, after: book.writes())
            if creation.created {
                created(creation.plan)
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

    /// Closes a side at market (signal action CLOSE).
    private func closeAtMarket(_ key: PositionKey, price: Double, at: Date) async throws {
        guard let position = try await book.position(key) else {
            throw EventRejection(.noPosition, "no open \(key) position to close")
        }
        let side = key.side.exitOrderSide
        let fill = paperPrice(side: side, price: price)
        let plan = try await book.plan(key)
        let orderId = "cl-" + Self.hash("\(key):\(plan?.planId ?? "none"):\(position.quantity):\(position.updatedAt.map(Timestamp.format) ?? "")")
        _ = try await book.recordOrder(PlanStore.PaperOrder(clientOrderId: orderId, price: fill, quantity: position.quantity, at: at), reading: nil)
        Counter(.orders, dimensions: [("purpose", OrderPurpose.exit.rawValue)]).increment()
        Counter(.fills, dimensions: [("purpose", OrderPurpose.exit.rawValue)]).increment()
        if let plan {
            let closed = executor.close(plan: plan, reason: .positionClosed, now: at)
            let pnl = Rounding.price(
                (fill - position.entryPrice) * position.quantity * key.side.sign - config.common.feeRate * fill * position.quantity)
            let outcome = try await book.close(closed, expectedVersion: plan.version, realizedPnl: pnl, position: .delete, orders: [], now: at)
            if outcome != .written { try await book.removePosition(key) }
            forget(key)
            Counter(.plansClosed, dimensions: [("reason", ClosedReason.positionClosed.rawValue)]).increment()
            logger.info(
                "exit plan closed",
                metadata: ["key": "\(key)", "plan_id": "\(plan.planId)", "closed_reason": "POSITION_CLOSED", "realized_pnl": "\(pnl)"])
        } else {
            try await book.removePosition(key)
        }
        await publish(
            .orderFilled,
            OrderFilled(
                symbol: key.symbol, side: side, quantity: position.quantity, price: fill, clientOrderId: orderId,
                purpose: .exit, reduceOnly: true, legIndex: nil))
    }

    /// A tick: every plan of the symbol is evaluated; decisions become orders (live) or events (shadow).
    public func handleTick(_ tick: MarketTick) async {
        lastPrice[tick.symbol] = tick.price
        dirtyPrices[tick.symbol] = tick.price
        guard config.common.exitBrainEnabled, config.exitMode == .exitBrainV3 else { return }
        for side in [PositionSide.long, .short] {
            let key = PositionKey(symbol: tick.symbol, side: side)
            guard let plan = planCache[key] else { continue }
            await evaluate(plan, price: tick.price)
        }
    }

    /// Runs one plan against one price and applies what comes out.
    public func evaluate(_ plan: ExitPlan, price: Double) async {
        let at = now()
        let mode = config.mode(for: plan.symbol)
        let evaluation = executor.evaluate(plan: plan, price: price, now: at, mode: mode)
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
        guard evaluation.changed || !evaluation.decisions.isEmpty else { return }
        do {
            try await apply(evaluation, from: plan, price: price, at: at)
        } catch {
            logger.error(
                "exit step not stored; will retry on the next price",
                metadata: ["key": "\(plan.key)", "plan_id": "\(plan.planId)", "error": "\(error)"])
        }
    }

    private func apply(_ evaluation: Evaluation, from plan: ExitPlan, price: Double, at: Date) async throws {
        let key = plan.key
        // The exit orders are recorded on the paper venue in the same atomic step as the plan
        // change they belong to: no order is ever placed for a plan version that is not the
        // stored one (a plan changed elsewhere is a conflict, reloaded below, and the next
        // price decides on it), and none is placed twice.
        var next = evaluation.plan
        var fills: [(ExitDecision, Double)] = []
        var orders: [PlanStore.PaperOrder] = []
        for d in evaluation.decisions {
            precondition(d.reduceOnly, "exit orders are reduce-only")
            let fill = paperPrice(side: d.orderSide, price: price)
            fills.append((d, fill))
            orders.append(PlanStore.PaperOrder(clientOrderId: d.clientOrderId, price: fill, quantity: d.quantity, at: at))
            if let i = next.legs.firstIndex(where: { $0.index == d.legIndex }) { next.legs[i].filledPrice = fill }
        }
        if next.status == .closed || next.remainingQuantity <= 0 {
            let pnl = executor.realizedPnl(plan: next)
            let outcome = try await book.close(next, expectedVersion: plan.version, realizedPnl: pnl, position: .delete, orders: orders, now: at)
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
            let position = try await book.position(key)
            var snapshot = position
            if var s = snapshot {
                s.quantity = next.remainingQuantity
                s.markPrice = price
                s.unrealizedPnl = Rounding.price((price - s.entryPrice) * s.quantity * key.side.sign)
                s.updatedAt = at
                snapshot = s
            }
            let changes = evaluation.changes.map(\.rawValue)
            let event = PlanUpdatedEvent(
                key: key.description, planId: plan.planId, version: next.version, change: changes.first ?? "LEG_FILLED", changes: changes)
            let outcome = try await book.update(next, expectedVersion: plan.version, event: event, position: snapshot, orders: orders, now: at)
            guard try await settle(outcome, key: key) else { return }
            remember(next)
            if let s = snapshot, !fills.isEmpty { await publish(.positionUpdated, s) }
            if evaluation.changes.contains(.slMoved), let sl = next.stopLossLeg {
                let tp1Filled = next.legs.first { $0.kind == .takeProfit }?.status == .filled
                let wasFilled = plan.legs.first { $0.kind == .takeProfit }?.status == .filled
                if tp1Filled && !wasFilled {
                    logger.info(
                        "moved stop to breakeven", metadata: ["key": "\(key)", "plan_id": "\(plan.planId)", "stop_price": "\(sl.triggerPrice)"])
                } else {
                    logger.info("moved stop", metadata: ["key": "\(key)", "plan_id": "\(plan.planId)", "stop_price": "\(sl.triggerPrice)"])
                }
            }
        }
        for (d, fill) in fills {
            Counter(.orders, dimensions: [("purpose", OrderPurpose.exit.rawValue)]).increment()
            Counter(.legsTriggered, dimensions: [("kind", d.kind.rawValue), ("shadow", "false")]).increment()
            Counter(.fills, dimensions: [("purpose", OrderPurpose.exit.rawValue)]).increment()
            logger.info(
                "exit leg filled",
                metadata: [
                    "key": "\(key)", "plan_id": "\(plan.planId)", "leg": "\(d.legIndex)", "kind": "\(d.kind.rawValue)",
                    "quantity": "\(d.quantity)", "price": "\(fill)", "client_order_id": "\(d.clientOrderId)",
                ])
            await publish(
                .legTriggered,
                LegTriggeredEvent(
                    key: key.description, planId: plan.planId, legIndex: d.legIndex, kind: d.kind,
                    price: price, quantity: d.quantity, clientOrderId: d.clientOrderId, shadow: false))
            await publish(
                .orderFilled,
                OrderFilled(
                    symbol: key.symbol, side: d.orderSide, quantity: d.quantity, price: fill,
                    clientOrderId: d.clientOrderId, purpose: .exit, reduceOnly: true, legIndex: d.legIndex))
        }
    }

    /// After a write: true when written; on a conflict the stored plan replaces the cached one.
    private func settle(_ outcome: PlanStore.Outcome, key: PositionKey) async throws -> Bool {
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

    private func paperPrice(side: OrderSide, price: Double) -> Double {
        let slip = config.slippageBps / 10_000
        return Rounding.price(side == .buy ? price * (1 + slip) : price * (1 - slip))
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

    /// Reloads plans from Redis: picks up plans stored by others (the monitor's retroactive
    /// plans, a restart) and drops plans closed by others. Between the mirror's full reads
    /// (every minute) it reads the field names and only the new plans; plans changed by others
    /// in place, such as a monitor's repair, are seen at the next full read or at the next
    /// write's version check.
    public func resync() async throws {
        let refresh = try await mirror.refresh()
        for bad in refresh.unreadable {
            logger.error("stored plan is not readable; left as it is", metadata: ["key": "\(bad.field)", "error": "\(bad.why)"])
        }
        let stored = refresh.readPlans
        if refresh.full {
            var fresh: [PositionKey: ExitPlan] = [:]
            for (key, plan) in stored where plan.isActive {
                if let mine = planCache[key], mine.planId == plan.planId, mine.version > plan.version {
                    fresh[key] = mine
                } else {
                    fresh[key] = plan
                }
            }
            for (key, plan) in planCache where fresh[key] == nil { shadowSent[plan.planId] = nil }
            planCache = fresh
            activePlans.record(Double(planCache.count))
            return
        }
        let present = Set(refresh.planFields)
        for key in planCache.keys where !present.contains(key.description) { forget(key) }
        for (key, plan) in stored where planCache[key] == nil && plan.isActive { remember(plan) }
    }

    private func remember(_ plan: ExitPlan) {
        if planCache.updateValue(plan, forKey: plan.key) == nil { mirror.noteKnown(plan: plan.key) }
        activePlans.record(Double(planCache.count))
    }

    private func forget(_ key: PositionKey) {
        // The mirror forgets its name too: a plan stored again under this key (a monitor's
        // retroactive plan) is then new to the next refresh and read within one resync.
        mirror.forgetPlan(key)
        if let p = planCache.removeValue(forKey: key) { shadowSent[p.planId] = nil }
        activePlans.record(Double(planCache.count))
    }

    private func publish(_ type: EventType, _ value: some Encodable & Sendable) async {
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

    /// 16 hex characters of FNV-1a 64 over the text.
    static func hash(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
