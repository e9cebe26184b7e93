import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import Metrics
import Venue

/// How the resolution of an order sent without an answer goes: queries with the same client
/// id, backing off, because "not found" right after sending is not proof of absence.
struct UnknownQuery: Sendable {
    /// When the order went `UNKNOWN`.
    var since: ContinuousClock.Instant
    /// Queries made.
    var attempts = 0
    /// When to query next.
    var next: ContinuousClock.Instant

    /// The wait before query `attempts + 1`: 0.25 s doubling to 5 s.
    var backoff: Duration { .milliseconds(min(5_000, 250 << min(attempts, 5))) }

    /// How long an order may stay unseen before it is taken as never arrived.
    static let patience = Duration.seconds(30)
}

/// The order lifecycle (docs/contract.md §11): intents, requests, the venue's answers, unknown
/// outcomes resolved by query, fills into plans, and the resting orders a plan needs.
extension ExecutionEngine {
    // MARK: - records

    /// Books a record in memory (the caller wrote it).
    func know(_ record: OrderRecord) {
        records[record.clientOrderId] = record
        if record.status.mayBeWorking {
            working[record.key, default: []].insert(record.clientOrderId)
            if record.purpose == .exit, planCache[record.key]?.planId != record.planId { orphanSuspects.insert(record.key) }
        } else {
            working[record.key]?.remove(record.clientOrderId)
            if working[record.key]?.isEmpty == true { working[record.key] = nil }
            unknown[record.clientOrderId] = nil
            retryAt[record.clientOrderId] = nil
        }
        unknownGauge.record(Double(unknown.count))
    }

    /// Forgets (in memory; `{ns}:orders` keeps them) the records that are final and not the
    /// current order of a pending leg: what the engine needs of them is done. Keeps memory flat
    /// however many orders a long run makes. Lets other work in between slices (``passSlice``).
    func pruneRecords() async {
        let final = records.compactMap { $0.value.status.isFinal ? $0.key : nil }
        for (n, id) in final.enumerated() {
            if n > 0, n % Self.passSlice == 0 { await Task.yield() }
            guard let record = records[id], record.status.isFinal else { continue }
            let current = planCache[record.key]?.legs.contains { $0.status == .pending && $0.clientOrderId == id } ?? false
            if !current { forgetRecord(id) }
        }
    }

    /// Drops one record from memory.
    func forgetRecord(_ id: String) {
        guard let record = records.removeValue(forKey: id) else { return }
        cancelReasons[id] = nil
        entryContexts[id] = nil
        working[record.key]?.remove(id)
        if working[record.key]?.isEmpty == true { working[record.key] = nil }
    }

    /// Books intents written with a plan change.
    func knowIntents(_ writes: [OrderWrite]) {
        for write in writes where records[write.clientOrderId] == nil { know(write.record) }
    }

    /// The intents of the resting orders `plan` needs and has no record of (none unless its
    /// exits rest at the venue), to be written in the same step as the plan.
    func intents(for plan: ExitPlan) async throws -> [OrderWrite] {
        guard plan.isActive, restsAtVenue(plan.symbol) else { return [] }
        return try intents(for: plan, desired: RestingOrders.desired(for: plan, rules: try await rules(for: plan.symbol)))
    }

    /// The intents of those of `desired` (the plan's resting orders) that have no record.
    func intents(for plan: ExitPlan, desired: [OrderRequest]) throws -> [OrderWrite] {
        let at = now()
        return try desired.filter { records[$0.clientOrderId] == nil }.map { request in
            try OrderWrite.intent(
                OrderRecord(
                    intent: request, key: plan.key, planId: plan.planId, legIndex: RestingOrders.legIndex(of: request.clientOrderId, in: plan),
                    at: at))
        }
    }

    // MARK: - keeping a plan's orders at the venue

    /// Makes the venue hold what the plan needs: intents for missing orders (written under the
    /// plan's version), then the requests, SL first; then the plan's other working orders are
    /// cancelled, a stop only once the new stop rests (the position is never without one).
    /// A leg whose order the venue refused or dropped gets a new client id and a new order.
    func keepOrders(_ plan: ExitPlan) async {
        // Not before the bucket's order records are read (a bucket just taken): the orders it
        // has at the venue would look missing.
        guard plan.isActive, restsAtVenue(plan.symbol), owns(plan.symbol), planCache[plan.key]?.planId == plan.planId else { return }
        let current = planCache[plan.key] ?? plan
        guard let rules = try? await venue.rules(for: current.symbol) else { return }
        let desired = RestingOrders.desired(for: current, rules: rules)
        // A desired order whose record ended (refused, expired, cancelled by the venue, or a
        // stop filled while more remains than it was sized for) needs a new id: the old one is
        // spent. A refusal waits a second before the next try.
        let spent = desired.compactMap { request -> Int? in
            guard let r = records[request.clientOrderId], r.status.isFinal,
                r.status == .filled || now().timeIntervalSince(r.updatedAt) >= 1,
                let index = RestingOrders.legIndex(of: request.clientOrderId, in: current),
                // The plan has taken the ending in (a fill being applied is not a spent order).
                current.legs[index].orderStatus == r.status
            else { return nil }
            return index
        }
        if !spent.isEmpty {
            await reissue(current, legs: spent)
            return
        }
        do {
            let missing = try intents(for: current, desired: desired)
            if !missing.isEmpty {
                let outcome = try await book.update(current, expectedVersion: current.version, event: nil, position: nil, orders: missing, now: now())
                guard try await settle(outcome, key: current.key) else { return }
                knowIntents(missing)
            }
        } catch {
            logger.error("order intents not stored", metadata: ["key": "\(current.key)", "plan_id": "\(current.planId)", "error": "\(error)"])
            return
        }
        var toSend: [OrderRecord] = []
        for request in desired {
            guard let record = records[request.clientOrderId], record.status == .intent, !inFlight.contains(record.clientOrderId) else { continue }
            if let due = retryAt[record.clientOrderId], due > clock.now { continue }
            toSend.append(record)
        }
        // A venue that caps a symbol's conditional orders (Binance's MAX_NUM_ALGO_ORDERS) may
        // not take the new orders beside the old: then the stop goes first, the take-profits
        // this plan no longer wants are cancelled (they protect nothing) and their
        // replacements follow; the old stop is cancelled only after, as always.
        let wantedNow = Set(desired.map(\.clientOrderId))
        let supersededTPs = (working[current.key] ?? []).compactMap { id -> OrderRecord? in
            guard !wantedNow.contains(id), let record = records[id], record.purpose == .exit, record.type == .takeProfitMarket else { return nil }
            return record
        }
        let resting = PositionSide.allCases.reduce(0) { count, side in
            count
                + (working[PositionKey(symbol: current.symbol, side: side)] ?? []).filter { id in
                    guard let r = records[id], r.type.isConditional else { return false }
                    return r.status == .new || r.status == .partiallyFilled || r.status == .unknown
                }.count
        }
        let overCap = rules.maxConditionalOrders.map { resting + toSend.filter(\.type.isConditional).count > $0 } ?? false
        if supersededTPs.isEmpty || !overCap {
            await sendAll(toSend)
        } else {
            await sendAll(toSend.filter { $0.type == .stopMarket })
            for record in supersededTPs { await cancelOrder(record, reason: "SUPERSEDED") }
            await sendAll(toSend.filter { $0.type != .stopMarket })
        }
        guard let latest = planCache[current.key], latest.planId == current.planId else { return }
        // What the plan wants now (it may have moved on while the requests were out).
        let latestDesired = latest.version == current.version ? desired : RestingOrders.desired(for: latest, rules: rules)
        let wanted = Set(latestDesired.map(\.clientOrderId))
        let stopRests =
            latestDesired.first { $0.type == .stopMarket }.map {
                let status = records[$0.clientOrderId]?.status
                return status == .new || status == .partiallyFilled
            } ?? true
        for id in working[latest.key] ?? [] where !wanted.contains(id) {
            guard let record = records[id], record.purpose == .exit, record.type.isConditional else { continue }
            if record.type == .stopMarket && !stopRests { continue }
            await cancelOrder(record, reason: "SUPERSEDED")
        }
    }

    /// True when the order of every pending stop-loss and take-profit leg rests at the venue
    /// (`NEW` or `PARTIALLY_FILLED` under the leg's client id) and no other order works for the
    /// position: ``keepOrders(_:)`` would send, reissue and cancel nothing.
    func ordersRest(_ plan: ExitPlan) -> Bool {
        var resting = 0
        for leg in plan.legs where leg.status == .pending && (leg.kind == .stopLoss || leg.kind == .takeProfit) {
            guard let status = records[leg.clientOrderId]?.status, status == .new || status == .partiallyFilled else { return false }
            resting += 1
        }
        return (working[plan.key]?.count ?? 0) == resting
    }

    /// Gives legs new client ids (a new plan version) so their orders can be placed again.
    private func reissue(_ plan: ExitPlan, legs: [Int]) async {
        var next = plan
        next.version += 1
        next.updatedAt = Timestamp.normalize(now())
        for i in legs where next.legs.indices.contains(i) {
            next.legs[i].clientOrderId = ClientOrderID.make(planId: plan.planId, legIndex: i, version: next.version)
            next.legs[i].orderStatus = nil
        }
        do {
            let orders = try await intents(for: next)
            let outcome = try await book.update(next, expectedVersion: plan.version, event: nil, position: nil, orders: orders, now: now())
            guard try await settle(outcome, key: plan.key) else { return }
            remember(next)
            knowIntents(orders)
            logger.warning(
                "exit orders placed again under new client ids", metadata: ["key": "\(plan.key)", "plan_id": "\(plan.planId)", "legs": "\(legs)"])
            await keepOrders(next)
        } catch {
            logger.error("legs not reissued", metadata: ["key": "\(plan.key)", "error": "\(error)"])
        }
    }

    // MARK: - requests

    /// Sends an intent (as `request` when the caller has more of it than the record keeps, such
    /// as an entry's leverage) and books the answer; returns the venue's refusal, if it refused.
    func send(_ record: OrderRecord, request: OrderRequest? = nil) async -> VenueError? {
        switch await place(record, request: request) {
        case nil: return nil
        case .success(let update):
            await absorb(update, for: record.clientOrderId)
            return nil
        case .failure(let error):
            return await refused(record, error)
        }
    }

    /// The request alone: the venue's answer, nil when the order is already out.
    private func place(_ record: OrderRecord, request: OrderRequest? = nil) async -> Result<OrderUpdate, VenueError>? {
        guard claim(record) else { return nil }
        defer { inFlight.remove(record.clientOrderId) }
        do {
            let update = try await venue.place(request ?? record.request)
            Counter(.orderOutcomes, dimensions: [("outcome", "accepted")]).increment()
            return .success(update)
        } catch { return .failure(error) }
    }

    /// The requests of several intents, sent together (``Venue/placeAll(_:)``, for a venue that
    /// takes them in one write): the answers in their order, nil for an intent not sent.
    private func placeAll(_ intents: [OrderRecord]) async -> [Result<OrderUpdate, VenueError>?] {
        var answers = [Result<OrderUpdate, VenueError>?](repeating: nil, count: intents.count)
        let claimed = intents.indices.filter { claim(intents[$0]) }
        guard !claimed.isEmpty else { return answers }
        let given = await venue.placeAll(claimed.map { intents[$0].request })
        for (n, i) in claimed.enumerated() {
            inFlight.remove(intents[i].clientOrderId)
            let answer = n < given.count ? given[n] : .failure(.unknownOutcome(message: "the venue answered fewer orders than it was sent"))
            if case .success = answer { Counter(.orderOutcomes, dimensions: [("outcome", "accepted")]).increment() }
            answers[i] = answer
        }
        return answers
    }

    /// Takes an intent for sending (marked in flight, counted): only an intent goes out (another
    /// pass may have sent or dropped it meanwhile), and only while this instance holds its
    /// bucket's lease.
    private func claim(_ record: OrderRecord) -> Bool {
        let id = record.clientOrderId
        guard holds(record.key.symbol) else {
            logger.warning("order not sent: its bucket's lease is not held", metadata: ["client_order_id": "\(id)", "key": "\(record.key)"])
            return false
        }
        guard records[id]?.status == .intent || records[id] == nil, inFlight.insert(id).inserted else { return false }
        Counter(.orders, dimensions: [("purpose", record.purpose.rawValue)]).increment()
        return true
    }

    /// One answer of ``sendAll(_:)``: a refusal takes its path at once; an acknowledgement is
    /// booked in memory at once (a re-entrant pass must see it accepted, not an intent to send
    /// or to drop) and its record and events join `writes`, true then; news with a fill or an
    /// ending goes to `rest`, for the full path after the batch's write.
    private func take(
        _ answer: Result<OrderUpdate, VenueError>?, for record: OrderRecord, into writes: inout BookWrites,
        rest: inout [(update: OrderUpdate, id: String)]
    ) async -> Bool {
        let id = record.clientOrderId
        switch answer {
        case nil: return false
        case .failure(let error):
            _ = await refused(record, error)
            return false
        case .success(let update):
            guard let before = records[id], let after = try? OrderLifecycle.apply(update, to: before, at: now()), after != before else {
                return false
            }
            guard after.filledQuantity == before.filledQuantity, !after.status.isFinal else {
                rest.append((update, id))
                return false
            }
            stage(after, from: before, update: update, into: &writes)
            return true
        }
    }

    /// News of an order booked in memory at once, its record and events added to `writes` (the
    /// caller's one write for a batch).
    private func stage(_ after: OrderRecord, from before: OrderRecord, update: OrderUpdate, into writes: inout BookWrites) {
        know(after)
        newsEvents(before: before, after: after, update: update, into: &writes)
        if let write = try? OrderWrite.update(after) { writes.put(write) }
    }

    /// Sends several intents, in order, and books their acknowledgements in one write (a plan's
    /// resting orders: one round trip for their records and `order.placed`, not one each).
    /// Refusals, fills and endings take the full path at once. A venue that takes the requests
    /// in one write (``Venue/placesTogether``) gets them so; any other gets them one by one,
    /// each sent only if the lease still holds just before it (an instance stopped mid-batch
    /// and woken past its lease sends nothing more).
    func sendAll(_ intents: [OrderRecord]) async {
        var writes = book.writes()
        var rest: [(update: OrderUpdate, id: String)] = []
        var booked = 0
        if venue.placesTogether {
            for (record, answer) in zip(intents, await placeAll(intents)) {
                if await take(answer, for: record, into: &writes, rest: &rest) { booked += 1 }
            }
        } else {
            for record in intents {
                let answer = await place(record)
                if await take(answer, for: record, into: &writes, rest: &rest) { booked += 1 }
            }
        }
        if !writes.isEmpty {
            do { try await book.commit(writes) } catch {
                logger.error("order records not stored", metadata: ["orders": "\(booked)", "error": "\(error)"])
            }
        }
        for (update, id) in rest { await absorb(update, for: id) }
    }

    /// What a refusal or a missing answer leads to (docs/contract.md §11); returns the error
    /// when the order is refused for good.
    private func refused(_ record: OrderRecord, _ error: VenueError) async -> VenueError? {
        let id = record.clientOrderId
        let outcome: String
        defer { Counter(.orderOutcomes, dimensions: [("outcome", outcome)]).increment() }
        switch error {
        case .unknownOutcome(let message):
            outcome = "unknown"
            logger.warning("order sent without an answer; resolving by query", metadata: ["client_order_id": "\(id)", "error": "\(message)"])
            await absorb(.sentWithoutAnswer(reason: message), for: id)
            unknown[id] = UnknownQuery(since: clock.now, next: clock.now + .milliseconds(250))
            unknownGauge.record(Double(unknown.count))
            return nil
        case .rateLimited(let after):
            outcome = "rate_limited"
            retryAt[id] = clock.now + .milliseconds(Int((after ?? 1) * 1000))
            logger.warning("venue rate limit; the order waits", metadata: ["client_order_id": "\(id)", "retry_after_s": "\(after ?? 1)"])
            return nil
        case .unreachable, .banned:
            outcome = "unreachable"
            retryAt[id] = clock.now + .seconds(1)
            logger.warning("venue unreachable; the order waits", metadata: ["client_order_id": "\(id)", "error": "\(error)"])
            return nil
        case .refused(-4116, _):
            // A duplicate: the venue has an order with this id, from an earlier attempt. Adopt it.
            outcome = "duplicate"
            await resolveByQuery(record)
            return nil
        case .notFound:
            outcome = "unknown"
            await absorb(.sentWithoutAnswer(reason: error.description), for: id)
            unknown[id] = UnknownQuery(since: clock.now, next: clock.now + .milliseconds(250))
            return nil
        case .wouldTriggerImmediately(let message):
            outcome = "would_trigger"
            await absorb(.rejected(code: -2021, message: message), for: id)
            logger.warning(
                "resting order refused as already triggered; exiting at market",
                metadata: ["client_order_id": "\(id)", "key": "\(record.key)", "type": "\(record.type.rawValue)"])
            if let plan = planCache[record.key], plan.planId == record.planId {
                let level = record.triggerPrice?.doubleValue ?? lastPrice[record.key.symbol] ?? plan.entryPrice
                await exitAtMarket(plan, price: level)
            }
            return nil
        case .reduceOnlyRefused(let code, let message):
            outcome = "rejected"
            await absorb(.rejected(code: code, message: message), for: id)
            logger.warning("reduce-only order refused; reading the position", metadata: ["client_order_id": "\(id)", "key": "\(record.key)"])
            await positionMayBeGone(record.key)
            return error
        case .refused(let code, let message):
            outcome = "rejected"
            await absorb(.rejected(code: code, message: message), for: id)
            logger.error(
                "order refused by the venue",
                metadata: ["client_order_id": "\(id)", "key": "\(record.key)", "code": "\(code)", "error": "\(message)"])
            return error
        }
    }

    /// Queries an order and books what the venue knows; "not found" starts (or continues) the
    /// backoff of an unknown outcome.
    func resolveByQuery(_ record: OrderRecord) async {
        let id = record.clientOrderId
        do {
            let update = try await venue.query(clientOrderId: id, symbol: record.key.symbol, conditional: record.type.isConditional)
            unknown[id] = nil
            await absorb(update, for: id)
        } catch .notFound {
            if record.status == .intent { return }  // never left: the caller sends it
            var query = unknown[id] ?? UnknownQuery(since: clock.now, next: clock.now)
            query.attempts += 1
            if clock.now - query.since >= UnknownQuery.patience {
                unknown[id] = nil
                logger.error(
                    "order never seen at the venue; taken as not placed",
                    metadata: ["client_order_id": "\(id)", "queries": "\(query.attempts)"])
                await absorb(.expired, for: id)
            } else {
                query.next = clock.now + query.backoff
                unknown[id] = query
            }
        } catch {
            var query = unknown[id] ?? UnknownQuery(since: clock.now, next: clock.now)
            query.next = clock.now + query.backoff
            unknown[id] = query
        }
        unknownGauge.record(Double(unknown.count))
    }

    // MARK: - answers and events

    /// Applies news of an order to its record, stores it with its events, and carries fills
    /// into positions and plans. News the record already holds changes nothing.
    func absorb(_ update: OrderUpdate, for id: String) async {
        guard let before = records[id] else { return }
        let after: OrderRecord
        do { after = try OrderLifecycle.apply(update, to: before, at: now()) } catch {
            logger.notice("order news ignored", metadata: ["client_order_id": "\(id)", "error": "\(error)"])
            return
        }
        guard after != before else { return }
        know(after)
        let increment = after.filledQuantity - before.filledQuantity
        var writes = book.writes()
        newsEvents(before: before, after: after, update: update, into: &writes)
        if increment > 0, after.purpose == .entry {
            if let write = try? OrderWrite.update(after) { writes.put(write) }
            await entryFilled(after, increment: increment, writes: writes)
            return
        }
        if increment > 0 || after.status.isFinal, after.purpose == .exit, after.planId != nil {
            await exitNews(after, increment: increment, events: writes)
            return
        }
        do {
            writes.put(try OrderWrite.update(after))
            try await book.commit(writes)
        } catch {
            logger.error("order record not stored", metadata: ["client_order_id": "\(id)", "error": "\(error)"])
        }
    }

    /// The events of an order's news: `order.placed`, `order.canceled`, `order.rejected`, and
    /// `order.filled` with the fill's increment.
    func newsEvents(before: OrderRecord, after: OrderRecord, update: OrderUpdate, into writes: inout BookWrites) {
        let id = after.clientOrderId
        let increment = after.filledQuantity - before.filledQuantity
        do {
            if after.status != before.status || increment > 0 {
                switch after.status {
                case .new where before.status != .new: writes.publish(.orderPlaced, data: after.jsonBytes(), now: now())
                case .canceled:
                    try writes.publish(
                        .orderCanceled,
                        OrderCanceledEvent(
                            clientOrderId: id, key: after.key.description, reason: cancelReasons.removeValue(forKey: id) ?? "VENUE"), now: now())
                case .rejected:
                    if case .rejected(let code, let message) = update {
                        try writes.publish(
                            .orderRejected, OrderRejectedEvent(clientOrderId: id, key: after.key.description, code: code, message: message),
                            now: now())
                    }
                default: break
                }
            }
            if increment > 0 {
                try writes.publish(
                    .orderFilled,
                    OrderFilled(
                        symbol: after.key.symbol, side: after.side, quantity: increment.doubleValue,
                        price: after.averagePrice?.doubleValue ?? 0, clientOrderId: id, purpose: after.purpose,
                        reduceOnly: after.purpose == .exit, legIndex: after.legIndex), now: now())
            }
        } catch {
            logger.error("order events not encoded", metadata: ["client_order_id": "\(id)", "error": "\(error)"])
        }
    }

    /// An exit order filled (in part or whole) or ended: the plan takes the fill (the record's
    /// update in the same step), the leg shows its order's status, and the plan's orders follow.
    private func exitNews(_ record: OrderRecord, increment: Decimal, events: BookWrites) async {
        let key = record.key
        // The reaction's events (order news, the leg's trigger) go in the same round trip as the
        // plan's write, ahead of it: they are the venue's facts, whatever the plan write finds.
        var events = events
        guard let write = try? OrderWrite.update(record) else { return }
        if increment > 0 { Counter(.fills, dimensions: [("purpose", OrderPurpose.exit.rawValue)]).increment() }
        for _ in 0..<3 {
            var plan = planCache[key]
            if plan?.planId != record.planId { plan = try? await book.plan(key) }
            guard let plan, plan.planId == record.planId, plan.isActive, let legIndex = record.legIndex, plan.legs.indices.contains(legIndex) else {
                await storeAlone(write, events)
                return
            }
            // A resting leg's first fill is its trigger at the venue.
            if record.type.isConditional, increment > 0, increment == record.filledQuantity {
                let leg = plan.legs[legIndex]
                Counter(.legsTriggered, dimensions: [("kind", leg.kind.rawValue), ("shadow", "false")]).increment()
                try? events.publish(
                    .legTriggered,
                    LegTriggeredEvent(
                        key: key.description, planId: plan.planId, legIndex: legIndex, kind: leg.kind,
                        price: record.averagePrice?.doubleValue ?? leg.triggerPrice, quantity: record.quantity.doubleValue,
                        clientOrderId: record.clientOrderId, shadow: false), now: now())
            }
            let at = now()
            // Less than a step left is nothing left: no order can close it.
            let step = (try? await venue.rules(for: key.symbol))?.stepSize.doubleValue ?? 0
            var evaluation = executor.applyFill(
                plan: plan, legIndex: legIndex, quantity: increment.doubleValue,
                averagePrice: record.averagePrice?.doubleValue ?? plan.legs[legIndex].triggerPrice, complete: record.status == .filled,
                lot: step, now: at)
            var next = evaluation.plan
            // The leg shows its current order's status (the order a leg's id names).
            if next.legs[legIndex].clientOrderId == record.clientOrderId || next.legs[legIndex].status == .filled,
                next.legs[legIndex].orderStatus != record.status
            {
                if !evaluation.changed {
                    next.version = plan.version + 1
                    next.updatedAt = Timestamp.normalize(at)
                }
                next.legs[legIndex].orderStatus = record.status
                evaluation = Evaluation(decisions: [], plan: next, changes: evaluation.changes, closedReason: evaluation.closedReason)
            }
            guard next != plan else {
                await storeAlone(write, events)
                return
            }
            do {
                if next.status == .closed {
                    let pnl = executor.realizedPnl(plan: next)
                    let outcome = try await book.close(
                        next, expectedVersion: plan.version, realizedPnl: pnl, position: .keep, orders: [write], after: events, now: at)
                    events = book.writes()
                    guard try await settle(outcome, key: key) else { continue }
                    forget(key)
                    Counter(.plansClosed, dimensions: [("reason", next.closedReason?.rawValue ?? "UNKNOWN")]).increment()
                    logger.info("exit leg filled", metadata: Self.fillMetadata(record, plan: plan))
                    logger.info(
                        "exit plan closed",
                        metadata: [
                            "key": "\(key)", "plan_id": "\(plan.planId)", "closed_reason": "\(next.closedReason?.rawValue ?? "")",
                            "realized_pnl": "\(pnl)",
                        ])
                    await cancelWorking(of: key, except: nil, reason: "POSITION_CLOSED")
                    return
                }
                let orders = try await intents(for: next)
                let changes = evaluation.changes.map(\.rawValue)
                let event =
                    changes.isEmpty
                    ? nil
                    : PlanUpdatedEvent(key: key.description, planId: plan.planId, version: next.version, change: changes[0], changes: changes)
                let outcome = try await book.update(
                    next, expectedVersion: plan.version, event: event, position: nil, orders: [write] + orders, after: events, now: at)
                events = book.writes()
                guard try await settle(outcome, key: key) else { continue }
                remember(next)
                knowIntents(orders)
                if increment > 0 { logger.info("exit leg filled", metadata: Self.fillMetadata(record, plan: plan)) }
                logStopMove(from: plan, to: next, changes: evaluation.changes)
                await keepOrders(next)
                return
            } catch {
                logger.error("exit fill not stored", metadata: ["client_order_id": "\(record.clientOrderId)", "error": "\(error)"])
                await storeAlone(write, events)
                return
            }
        }
        await storeAlone(write, events)
    }

    /// Before an entry's fill is planned: a venue holding less than the plan's remainder plus the
    /// fill has filled an exit whose news is still on its way (a stream behind the order's
    /// answer). The plan's working exits are asked about first, so the plan takes their fills,
    /// and closes if they closed the position, before the entry re-plans it: planned on the
    /// venue's position as it is, the plan would count that exit twice.
    func takeUnseenExits(of key: PositionKey, holding quantity: Decimal, after increment: Decimal) async {
        guard let plan = planCache[key], plan.isActive else { return }
        let step = (try? await rules(for: key.symbol))?.stepSize ?? 0
        guard quantity + step / 2 < Decimal(rounding: plan.remainingQuantity) + increment else { return }
        let exits = (working[key] ?? []).sorted().compactMap { records[$0] }.filter {
            $0.purpose == .exit && $0.planId == plan.planId && $0.status != .intent
        }
        logger.info(
            "the venue holds less than the plan and this fill: asking about the plan's exits first",
            metadata: ["key": "\(key)", "plan_id": "\(plan.planId)", "venue_quantity": "\(quantity)", "exits": "\(exits.count)"])
        for record in exits { await resolveByQuery(records[record.clientOrderId] ?? record) }
    }

    /// The record's write alone (no plan change), with the events of its news.
    private func storeAlone(_ write: OrderWrite, _ events: BookWrites) async {
        var writes = events
        writes.put(write)
        do { try await book.commit(writes) } catch {
            logger.error("order record not stored", metadata: ["client_order_id": "\(write.clientOrderId)", "error": "\(error)"])
        }
    }

    static func fillMetadata(_ record: OrderRecord, plan: ExitPlan) -> Logger.Metadata {
        [
            "key": "\(record.key)", "plan_id": "\(plan.planId)", "leg": "\(record.legIndex ?? -1)",
            "kind": "\(record.legIndex.flatMap { plan.legs.indices.contains($0) ? plan.legs[$0].kind.rawValue : nil } ?? "")",
            "quantity": "\(record.filledQuantity)", "price": "\(record.averagePrice ?? 0)", "client_order_id": "\(record.clientOrderId)",
        ]
    }

    // MARK: - cancels

    /// Cancels the working orders of a position (all but `except`). Those of no active plan (a
    /// closed position's) go to a venue that takes them together in one request
    /// (``Venue/cancelAll(_:)``), their records and `order.canceled` in one write.
    func cancelWorking(of key: PositionKey, except: String?, reason: String) async {
        let targets = (working[key] ?? []).filter { $0 != except }.sorted().compactMap { id -> OrderRecord? in
            guard let record = records[id], record.purpose == .exit, record.type.isConditional else { return nil }
            return record
        }
        let activePlan = planCache[key]?.planId
        let together = venue.placesTogether ? targets.filter { $0.planId != activePlan && $0.status != .intent } : []
        for record in targets where !together.contains(where: { $0.clientOrderId == record.clientOrderId }) {
            await cancelOrder(records[record.clientOrderId] ?? record, reason: reason)
        }
        await cancelTogether(together.map(\.clientOrderId), reason: reason)
    }

    /// Cancels working orders of no active plan in one request; what the venue no longer has is
    /// asked about, as ``cancelOrder(_:reason:)`` does.
    private func cancelTogether(_ ids: [String], reason: String) async {
        let sending = ids.compactMap { id -> OrderRecord? in
            guard let record = records[id], record.status.mayBeWorking, record.status != .intent, holds(record.key.symbol),
                inFlight.insert(id).inserted
            else { return nil }
            cancelReasons[id] = reason
            return record
        }
        guard !sending.isEmpty else { return }
        let outcomes = await venue.cancelAll(
            sending.map { OpenOrder(clientOrderId: $0.clientOrderId, symbol: $0.key.symbol, conditional: $0.type.isConditional) })
        var writes = book.writes()
        var gone: [OrderRecord] = []
        for (n, record) in sending.enumerated() {
            let id = record.clientOrderId
            inFlight.remove(id)
            switch n < outcomes.count ? outcomes[n] : .failure(.unknownOutcome(message: "the venue answered fewer cancels than it was sent")) {
            case .success:
                guard let before = records[id], let after = try? OrderLifecycle.apply(.canceled, to: before, at: now()), after != before else {
                    continue
                }
                stage(after, from: before, update: .canceled, into: &writes)
            case .failure(.notFound):
                gone.append(record)
            case .failure(let error):
                logger.warning("cancel not done; will try again", metadata: ["client_order_id": "\(id)", "error": "\(error)"])
            }
        }
        if !writes.isEmpty {
            do { try await book.commit(writes) } catch {
                logger.error("order records not stored", metadata: ["orders": "\(sending.count)", "error": "\(error)"])
            }
        }
        // Gone already (filled, expired): ask what became of each.
        for record in gone { await resolveByQuery(records[record.clientOrderId] ?? record) }
    }

    /// Cancels one order; an intent that never left is closed as not sent.
    func cancelOrder(_ record: OrderRecord, reason: String) async {
        let id = record.clientOrderId
        guard record.status.mayBeWorking, !inFlight.contains(id), holds(record.key.symbol) else { return }
        if record.status == .intent {
            await absorb(.rejected(code: nil, message: "not sent: \(reason)"), for: id)
            return
        }
        inFlight.insert(id)
        cancelReasons[id] = reason
        do {
            try await venue.cancel(clientOrderId: id, symbol: record.key.symbol, conditional: record.type.isConditional)
            inFlight.remove(id)
            await absorb(.canceled, for: id)
        } catch .notFound {
            inFlight.remove(id)
            // Gone already (filled, expired): ask what became of it.
            await resolveByQuery(record)
        } catch {
            inFlight.remove(id)
            logger.warning("cancel not done; will try again", metadata: ["client_order_id": "\(id)", "error": "\(error)"])
        }
    }

    // MARK: - positions and venue events

    /// The most venue events taken as one batch (and so the most lanes side by side), and the
    /// most held waiting while the engine is busy.
    static let venueBatchLimit = 256
    static let venueBacklogLimit = 10_000

    /// Applies `events` until they end: what arrived while the engine was busy is taken as one
    /// batch and handled in lanes (the batch form of ``handleVenue(_:)``); `handled` hears each
    /// batch's size once it is done.
    public nonisolated func follow(_ events: AsyncStream<VenueEvent>, handled: @Sendable (Int) -> Void = { _ in }) async {
        await Backlog.drain(events, limit: Self.venueBacklogLimit, batch: Self.venueBatchLimit) {
            await handleVenue($0)
            handled($0.count)
        }
    }

    /// Venue events as they came: each symbol's in order, different symbols' side by side
    /// (``EventLanes``); a gap, or news of an order without a record, waits for what came before
    /// it.
    public func handleVenue(_ events: [VenueEvent]) async {
        let bySymbol = events.map { event -> (symbol: String?, event: VenueEvent) in
            switch event {
            case .order(let id, _): (records[id]?.key.symbol, event)
            case .position(let position): (position.key.symbol, event)
            case .price(let symbol, _): (symbol, event)
            case .gap: (nil, event)
            }
        }
        await EventLanes.run(bySymbol) { await self.handleVenue($0) }
    }

    /// One venue event.
    public func handleVenue(_ event: VenueEvent) async {
        switch event {
        case .order(let id, let update):
            guard records[id] != nil else {
                logger.debug("venue news of an order without a record", metadata: ["client_order_id": "\(id)"])
                return
            }
            await absorb(update, for: id)
        case .position(let position):
            guard holds(position.key.symbol) else { return }
            let snapshot = snapshot(of: position, at: now())
            await mirror(position, snapshot: snapshot)
            // The venue's news of a fill the engine already announced (an entry's, published
            // with its plan) is not announced twice.
            if announcedPosition(snapshot) { await publish(.positionUpdated, snapshot) }
            if position.quantity <= 0 { await positionMayBeGone(position.key) }
        case .price(let symbol, let price):
            await handlePrice(symbol: symbol, price: price.doubleValue)
        case .gap(let reason):
            logger.warning("venue event stream had a gap; reconciling", metadata: ["reason": "\(reason)"])
            do { try await reconcile() } catch {
                logger.error("reconciliation after a gap failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Notes `snapshot` as the last `position.updated` of its position; false when that one
    /// had the same quantity and entry price (nothing new to say).
    func announcedPosition(_ snapshot: PositionSnapshot) -> Bool {
        let now = (snapshot.quantity, snapshot.entryPrice)
        guard snapshot.quantity > 0 else {
            announcedPositions[snapshot.key] = nil
            return true
        }
        if let last = announcedPositions.updateValue(now, forKey: snapshot.key), last == now { return false }
        return true
    }

    /// With a venue that owns its book (Binance), its positions are mirrored into
    /// `{ns}:positions` for the monitor and operators; the paper venue's book is that hash.
    func mirror(_ position: VenuePosition, snapshot: PositionSnapshot) async {
        guard config.venueOwnsBook else { return }
        do {
            if position.quantity > 0 {
                try await book.putPosition(snapshot)
            } else {
                try await book.removePosition(position.key)
            }
        } catch {
            logger.warning(
                "position not mirrored into Redis; the next reconciliation will", metadata: ["key": "\(position.key)", "error": "\(error)"])
        }
    }

    /// When the venue has no position for a key, its active plan closes (POSITION_CLOSED) and
    /// its resting orders are cancelled.
    func positionMayBeGone(_ key: PositionKey) async {
        guard let plan = planCache[key] else {
            await cancelWorking(of: key, except: nil, reason: "POSITION_CLOSED")
            return
        }
        guard (try? await venue.position(key)) == .some(nil) else { return }
        let at = now()
        let closed = executor.close(plan: plan, reason: .positionClosed, now: at)
        do {
            // The position is the venue's: it is left as it is (a new one may be opening).
            let outcome = try await book.close(
                closed, expectedVersion: plan.version, realizedPnl: executor.realizedPnl(plan: closed), position: .keep, orders: [], now: at)
            if try await settle(outcome, key: key) {
                forget(key)
                Counter(.plansClosed, dimensions: [("reason", ClosedReason.positionClosed.rawValue)]).increment()
                logger.info("exit plan closed", metadata: ["key": "\(key)", "plan_id": "\(plan.planId)", "closed_reason": "POSITION_CLOSED"])
            }
        } catch {
            logger.error("plan of a gone position not closed", metadata: ["key": "\(key)", "error": "\(error)"])
        }
        await cancelWorking(of: key, except: nil, reason: "POSITION_CLOSED")
    }

    // MARK: - the periodic pass

    /// The housekeeping of orders: unknown outcomes queried when due, intents the venue was too
    /// busy for sent again, resting stops supervised without ticks, orders of positions
    /// without an active plan cancelled, and every 5 s each plan's orders checked against what
    /// it needs (a refused or expired order is placed again under a new id).
    ///
    /// Between the five-second passes only what changed is looked at: positions whose plan went
    /// or changed (``orphanSuspects``) and stops the price is past; the pass looks at them all.
    public func maintainOrders() async {
        await handlePendingSignals()
        var supervised = Array(stopCrossedSince.keys)
        if lastFullKeep.map({ clock.now - $0 >= .seconds(5) }) ?? true {
            lastFullKeep = clock.now
            // A plan whose orders all rest as its legs name them needs nothing: skipped without
            // working out its orders again (with thousands of plans, that work was the pass).
            // The pass lets prices and fills in between slices: with 10 000 plans it took the
            // engine for over 100 ms at a time.
            for (n, key) in Array(planCache.keys).enumerated() {
                if n > 0, n % Self.passSlice == 0 { await Task.yield() }
                if let plan = planCache[key], !ordersRest(plan) { await keepOrders(plan) }
            }
            await pruneRecords()
            orphanSuspects.formUnion(working.keys)
            supervised = Array(planCache.keys)
        }
        for (id, query) in unknown where query.next <= clock.now {
            guard let record = records[id] else {
                unknown[id] = nil
                continue
            }
            await resolveByQuery(record)
        }
        for (id, due) in retryAt where due <= clock.now {
            retryAt[id] = nil
            guard let record = records[id], record.status == .intent else { continue }
            if record.type == .market {
                // Entries, closes and market exits go out as they are: nothing else sends them.
                _ = await send(record)
            } else if let plan = planCache[record.key], plan.planId == record.planId {
                await keepOrders(plan)
            }
        }
        let suspects = orphanSuspects
        orphanSuspects = []
        for (n, key) in suspects.enumerated() {
            if n > 0, n % Self.passSlice == 0 { await Task.yield() }
            // A bucket just taken: its records are known before its plans are read, and every
            // order would look orphaned. Looked at once the reconciliation has read them.
            guard owns(key.symbol) else {
                if holds(key.symbol) { orphanSuspects.insert(key) }
                continue
            }
            let plan = planCache[key]
            for id in working[key] ?? [] {
                guard let record = records[id], record.purpose == .exit, record.type.isConditional, record.status != .intent else { continue }
                guard plan == nil || plan?.planId != record.planId else { continue }
                await cancelOrder(record, reason: "ORPHANED")
                // Not cancelled yet (a cancel under way, the venue busy): looked at again next time.
                if records[id]?.status.mayBeWorking == true { orphanSuspects.insert(key) }
            }
        }
        for (n, key) in supervised.enumerated() {
            if n > 0, n % Self.passSlice == 0 { await Task.yield() }
            if let plan = planCache[key], restsAtVenue(plan.symbol), let price = lastPrice[plan.symbol] {
                _ = await superviseStop(plan, price: price)
            }
        }
    }
}
