import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import Venue

/// The simulated venue (`EXCHANGE=paper`): a ``Venue`` whose book lives in Redis, so that it
/// outlives the service that trades on it, as a real venue does.
///
/// - Positions are `{ns}:positions` (a snapshot any client writes there is an open position).
/// - Its own record of every order is `{ns}:paper:orders`, by client order id: a client id is
///   accepted once (a second request with it is refused as a duplicate, as at Binance).
/// - Market orders fill at once at the last price with the configured slippage; reduce-only
///   orders never grow or flip a position (they fill at most what is open, and are refused when
///   nothing is).
/// - Stop-market and take-profit-market orders rest until a price crosses their trigger, then
///   fill as market orders; one whose trigger is already crossed is refused (-2021).
/// - ``PaperFaults`` make it answer nothing, refuse, delay or drop its events, or die mid-request.
public actor PaperVenue: Venue {
    public nonisolated let kind = "paper"
    private let book: any BookStore
    private let symbolRules: @Sendable (String) -> SymbolRules
    private let slippageBps: Double
    private let logger: Logger
    private var faults: PaperFaults
    /// The working orders (the rest are only in Redis, read back when asked for).
    private var orders = BoxedDictionary<String, OrderRecord>()
    private var resting: [String: Set<String>] = [:]
    private var prices: [String: Decimal] = [:]
    /// The open positions as this venue last wrote or read them (a position written by another
    /// client is read when first asked for; every write checks that Redis still agrees).
    private var positionCache: [PositionKey: PositionSnapshot] = [:]
    /// Positions this venue found or made flat (an entry there is checked against Redis when it
    /// is written; a reduce-only order reads again).
    private var knownFlat: Set<PositionKey> = []
    private var loaded = false
    /// The first read of the book, under way: callers for different symbols wait for the same one.
    private var loading: Task<Void, any Error>?
    private var nextId: Int64 = 1
    private var subscribers: [UUID: AsyncStream<VenueEvent>.Continuation] = [:]
    private var dropping = false
    /// One operation at a time per symbol (the book is read and written across awaits, and an
    /// order must not be cancelled half-way through its fill); symbols do not wait for each
    /// other. ``everything`` takes the whole venue (listings and snapshots).
    private var held: Set<String> = []
    private var waiting: [(symbol: String, continuation: CheckedContinuation<Void, Never>)] = []
    static let everything = "*"

    /// Events handed to subscribers so far (each once, whatever the number of subscribers).
    public private(set) var emittedCount = 0

    /// The default rules of every paper symbol: a cent tick, a step of 0.0001, no minimum notional.
    public static let defaultRules: @Sendable (String) -> SymbolRules = { symbol in
        var rules = defaultTemplate
        rules.symbol = symbol
        return rules
    }

    /// The default rules, parsed once (they are asked for on every order).
    private static let defaultTemplate = SymbolRules(
        symbol: "", tickSize: Decimal(string: "0.01")!, stepSize: Decimal(string: "0.0001")!, minQuantity: Decimal(string: "0.0001")!,
        maxQuantity: 1_000_000, minNotional: 0)

    /// A paper venue over the book.
    public init(
        book: any BookStore, slippageBps: Double = 0, faults: PaperFaults = PaperFaults(), logger: Logger,
        rules: @escaping @Sendable (String) -> SymbolRules = PaperVenue.defaultRules
    ) {
        self.book = book
        self.slippageBps = slippageBps
        self.faults = faults
        self.logger = logger
        symbolRules = rules
    }

    // MARK: - knobs

    /// Replaces the faults.
    public func setFaults(_ faults: PaperFaults) { self.faults = faults }

    /// Drops (true) or restores (false) the event stream; restoring it reports a gap.
    public func dropEvents(_ drop: Bool) {
        guard dropping != drop else { return }
        dropping = drop
        if !drop { emit(.gap(reason: "paper venue stream restored")) }
    }

    // MARK: - Venue

    public nonisolated func rules(for symbol: String) async throws(VenueError) -> SymbolRules { symbolRules(symbol) }

    public func place(_ request: OrderRequest) async throws(VenueError) -> OrderUpdate {
        await acquire(request.symbol)
        defer { release(request.symbol) }
        try await load()
        if faults.crashOnPlace == request.type { Self.die("crash-on-place \(request.clientOrderId)") }
        if let i = faults.refusals.firstIndex(where: { $0.type == nil || $0.type == request.type }) {
            throw faults.refusals.remove(at: i).error
        }
        let price = try await price(request.symbol)
        let (checked, position) = try await check(request, price: price)
        let key = checked.key
        let now = checked.createdAt
        var record = checked
        let update: OrderUpdate
        var positionChange: PaperLedgerWrite.PositionChange?
        if request.type.isConditional {
            (record, update) = try accept(record, price: price)
            _ = try await commit(record, position: nil, onlyIfNew: true)
            resting[request.symbol, default: []].insert(request.clientOrderId)
        } else {
            guard let price else { throw .refused(code: -1100, message: "No price for \(request.symbol) yet.") }
            var base = position
            var filled: (update: OrderUpdate, record: OrderRecord, change: PaperLedgerWrite.PositionChange)?
            for _ in 0..<2 where filled == nil {
                let fill = try fillMarket(request.quantity, of: request, at: price, position: base, now: now)
                let news = OrderUpdate.filled(cumulative: fill.quantity, averagePrice: fill.price, venueOrderId: newId())
                let next = try apply(news, to: record, at: now)
                switch try await commit(next, position: fill.position, onlyIfNew: true, positionExisted: base != nil) {
                case .written: filled = (news, next, fill.position)
                case .staleBook:
                    // Someone else changed the position: read it and work it out again.
                    base = try await snapshot(key, fresh: true)
                    if request.reduceOnly, base == nil { throw .reduceOnlyRefused(code: -2022, message: "ReduceOnly Order is rejected.") }
                }
            }
            guard let filled else { throw .unknownOutcome(message: "the paper book kept changing under \(request.clientOrderId)") }
            update = filled.update
            record = filled.record
            positionChange = filled.change
        }
        if record.status.mayBeWorking { orders[record.clientOrderId] = record }
        if faults.crashAfterAccept == request.type { Self.die("crash-after-accept \(request.clientOrderId)") }
        if faults.silentAccepts > 0 {
            faults.silentAccepts -= 1
            throw .unknownOutcome(message: "the paper venue accepted \(request.clientOrderId) and answered nothing (PAPER_FAULTS silent)")
        }
        emit(.order(clientOrderId: record.clientOrderId, update))
        if case .filled = update, let change = positionChange { emit(.position(Self.venuePosition(change, key))) }
        return update
    }

    /// Resting orders go in one pipeline (``placeAll(_:)``).
    public nonisolated var placesTogether: Bool { true }

    /// A plan's resting orders (conditional, one symbol, no fault set) are checked one by one
    /// as ``place(_:)`` checks them and stored in one round trip; anything else goes one by one.
    public func placeAll(_ requests: [OrderRequest]) async -> [Result<OrderUpdate, VenueError>] {
        guard requests.count > 1, let symbol = requests.first?.symbol, faults == PaperFaults(),
            requests.allSatisfy({ $0.symbol == symbol && $0.type.isConditional })
        else { return await placeOneByOne(requests) }
        await acquire(symbol)
        defer { release(symbol) }
        var answers = [Result<OrderUpdate, VenueError>?](repeating: nil, count: requests.count)
        var staged: [(index: Int, record: OrderRecord, update: OrderUpdate)] = []
        do throws(VenueError) {
            try await load()
            let price = try await price(symbol)
            for (i, request) in requests.enumerated() {
                do throws(VenueError) {
                    guard !staged.contains(where: { $0.record.clientOrderId == request.clientOrderId }) else {
                        throw .refused(code: -4116, message: "ClientOrderId is duplicated.")
                    }
                    let (record, update) = try accept(try await check(request, price: price).record, price: price)
                    staged.append((i, record, update))
                } catch { answers[i] = .failure(error) }
            }
            let outcomes = try await storeTogether(staged.map(\.record), onlyIfNew: true)
            for (n, stage) in staged.enumerated() {
                let id = stage.record.clientOrderId
                guard n < outcomes.count, outcomes[n] == .written else {
                    answers[stage.index] = .failure(.refused(code: -4116, message: "ClientOrderId is duplicated."))
                    continue
                }
                orders[id] = stage.record
                resting[symbol, default: []].insert(id)
                emit(.order(clientOrderId: id, stage.update))
                answers[stage.index] = .success(stage.update)
            }
        } catch {
            for i in answers.indices where answers[i] == nil { answers[i] = .failure(error) }
        }
        return answers.map { $0 ?? .failure(.unknownOutcome(message: "no answer")) }
    }

    /// The checks every order passes, in order: a new client id, the symbol's rules, and a
    /// position for a reduce-only order. The order as first recorded, and the position.
    private func check(_ request: OrderRequest, price: Decimal?) async throws(VenueError) -> (record: OrderRecord, position: PositionSnapshot?) {
        guard orders[request.clientOrderId] == nil else { throw .refused(code: -4116, message: "ClientOrderId is duplicated.") }
        let rules = symbolRules(request.symbol)
        if let violation = rules.violation(
            quantity: request.quantity, price: request.triggerPrice, type: request.type, reduceOnly: request.reduceOnly)
        {
            throw violation
        }
        let key = PositionKey(symbol: request.symbol, side: request.positionSide)
        // An order that adds reads nothing first: the position it assumes (the one known, else
        // none) is checked where the fill is stored, and one not as assumed is read and the
        // fill worked out again. One that reduces needs the position to be refused without it.
        let position = request.reduceOnly ? try await snapshot(key, reducing: true) : positionCache[key]
        if request.reduceOnly, position == nil { throw .reduceOnlyRefused(code: -2022, message: "ReduceOnly Order is rejected.") }
        return (OrderRecord(intent: request, key: key, planId: nil, legIndex: nil, at: Date()), position)
    }

    /// A conditional order accepted to rest (not yet stored): refused when its trigger is
    /// missing or already crossed.
    private func accept(_ record: OrderRecord, price: Decimal?) throws(VenueError) -> (OrderRecord, OrderUpdate) {
        guard let trigger = record.triggerPrice else { throw .refused(code: -1102, message: "Mandatory parameter 'triggerPrice' was not sent.") }
        if let price, Self.crossed(trigger, by: price, type: record.type, side: record.positionSide) {
            throw .wouldTriggerImmediately(message: "Order would immediately trigger.")
        }
        let update = OrderUpdate.accepted(venueOrderId: nil, venueAlgoId: newId())
        return (try apply(update, to: record, at: record.createdAt), update)
    }

    public func cancel(clientOrderId: String, symbol: String, conditional: Bool) async throws(VenueError) {
        await acquire(symbol)
        defer { release(symbol) }
        try await load()
        guard let record = orders[clientOrderId], record.status.mayBeWorking else { throw .notFound(clientOrderId: clientOrderId) }
        let next = try apply(.canceled, to: record, at: Date())
        _ = try await commit(next, position: nil, onlyIfNew: false)
        cancelled(clientOrderId, symbol: symbol)
    }

    /// A cancel stored: the order leaves the book and its news goes out.
    private func cancelled(_ id: String, symbol: String) {
        orders[id] = nil
        resting[symbol]?.remove(id)
        emit(.order(clientOrderId: id, .canceled))
    }

    /// A closed position's resting orders (one symbol) are cancelled as ``cancel(clientOrderId:symbol:conditional:)``
    /// cancels them, stored in one round trip; anything else goes one by one.
    public func cancelAll(_ targets: [OpenOrder]) async -> [Result<Void, VenueError>] {
        guard targets.count > 1, let symbol = targets.first?.symbol, targets.allSatisfy({ $0.symbol == symbol }) else {
            return await cancelOneByOne(targets)
        }
        await acquire(symbol)
        defer { release(symbol) }
        var outcomes = [Result<Void, VenueError>?](repeating: nil, count: targets.count)
        var staged: [(index: Int, record: OrderRecord)] = []
        do throws(VenueError) {
            try await load()
            let at = Date()
            for (i, target) in targets.enumerated() {
                let id = target.clientOrderId
                guard let record = orders[id], record.status.mayBeWorking, !staged.contains(where: { $0.record.clientOrderId == id }) else {
                    outcomes[i] = .failure(.notFound(clientOrderId: id))
                    continue
                }
                do throws(VenueError) { staged.append((i, try apply(.canceled, to: record, at: at))) } catch { outcomes[i] = .failure(error) }
            }
            let written = try await storeTogether(staged.map(\.record), onlyIfNew: false)
            for (n, stage) in staged.enumerated() {
                let id = stage.record.clientOrderId
                guard n < written.count, written[n] == .written else {
                    outcomes[stage.index] = .failure(.unknownOutcome(message: "the paper book did not store the cancel"))
                    continue
                }
                cancelled(id, symbol: symbol)
                outcomes[stage.index] = .success(())
            }
        } catch {
            for i in outcomes.indices where outcomes[i] == nil { outcomes[i] = .failure(error) }
        }
        return outcomes.map { $0 ?? .failure(.unknownOutcome(message: "no answer")) }
    }

    public func query(clientOrderId: String, symbol: String, conditional: Bool) async throws(VenueError) -> OrderUpdate {
        await acquire(symbol)
        defer { release(symbol) }
        try await load()
        if let record = orders[clientOrderId] { return Self.news(of: record) }
        let stored: [UInt8]?
        do { stored = try await book.paperOrder(clientOrderId) } catch { throw .unreachable(message: error.message) }
        guard let stored, let record = try? OrderWrite.decode(stored, field: clientOrderId) else { throw .notFound(clientOrderId: clientOrderId) }
        return Self.news(of: record)
    }

    public func openOrders() async throws(VenueError) -> [OpenOrder] {
        await acquire(Self.everything)
        defer { release(Self.everything) }
        try await load()
        return resting.flatMap { symbol, ids in ids.map { OpenOrder(clientOrderId: $0, symbol: symbol, conditional: true) } }
            .sorted { $0.clientOrderId < $1.clientOrderId }
    }

    public func positions() async throws(VenueError) -> [VenuePosition] {
        let rows: [(field: String, bytes: [UInt8])]
        do { rows = try await book.readAll([.positions])[0] } catch { throw .unreachable(message: error.message) }
        let open = rows.compactMap { row -> PositionSnapshot? in
            guard let s = try? PositionStore.decode(row.bytes, field: row.field), s.quantity > 0 else { return nil }
            return s
        }
        positionCache = Dictionary(open.map { ($0.key, $0) }, uniquingKeysWith: { $1 })
        knownFlat = []
        return open.map(Self.venuePosition)
    }

    public func position(_ key: PositionKey) async throws(VenueError) -> VenuePosition? {
        try await snapshot(key).map(Self.venuePosition)
    }

    public func events() -> AsyncStream<VenueEvent> {
        let (stream, continuation) = AsyncStream<VenueEvent>.makeStream(bufferingPolicy: .bufferingNewest(100_000))
        let id = UUID()
        subscribers[id] = continuation
        continuation.onTermination = { _ in Task { await self.unsubscribe(id) } }
        return stream
    }

    private func unsubscribe(_ id: UUID) { subscribers[id] = nil }

    public func health() async -> VenueHealth {
        do { try await load() } catch {
            return VenueHealth(kind: kind, reachable: false, details: [("note", "paper book not readable: \(error)")])
        }
        let open = resting.values.reduce(0) { $0 + $1.count }
        return VenueHealth(
            kind: kind, reachable: true, degraded: dropping,
            details: [("book", "redis"), ("open_orders", "\(open)"), ("stream", dropping ? "DROPPED" : "CONNECTED")])
    }

    /// A price: resting orders whose trigger it crosses fill at it.
    public func observe(symbol: String, price: Decimal) async {
        await acquire(symbol)
        defer { release(symbol) }
        prices[symbol] = price
        guard let ids = resting[symbol], !ids.isEmpty else { return }
        let now = Date()
        for id in ids.sorted() {
            guard let record = orders[id], record.status.mayBeWorking, let trigger = record.triggerPrice,
                Self.crossed(trigger, by: price, type: record.type, side: record.positionSide)
            else { continue }
            if faults.stuckStops, record.type == .stopMarket { continue }
            do {
                let position = try await snapshot(record.key)
                let next: OrderRecord
                var positionChange: PaperLedgerWrite.PositionChange?
                if position == nil {
                    // Nothing left to reduce: the order expires instead of opening a position.
                    next = try apply(.expired, to: record, at: now)
                } else {
                    var quantity = record.remainingQuantity
                    if faults.partialFills > 0, record.filledQuantity == 0 {
                        let half = symbolRules(record.key.symbol).quantity(quantity / 2)
                        if half > 0 {
                            faults.partialFills -= 1
                            quantity = half
                        }
                    }
                    let fill = try fillMarket(quantity, of: record.request, at: price, position: position, now: now)
                    next = try apply(
                        .filled(cumulative: record.filledQuantity + fill.quantity, averagePrice: fill.price, venueOrderId: newId()), to: record,
                        at: now)
                    positionChange = fill.position
                }
                if try await commit(next, position: positionChange, onlyIfNew: false, positionExisted: position != nil) == .staleBook {
                    positionCache[record.key] = nil  // read again; the next price that crosses it fills it
                    continue
                }
                orders[id] = next.status.mayBeWorking ? next : nil
                if !next.status.mayBeWorking { resting[symbol]?.remove(id) }
                emit(.order(clientOrderId: id, Self.news(of: next)))
                if let positionChange { emit(.position(Self.venuePosition(positionChange, record.key))) }
            } catch {
                logger.error("paper trigger not applied", metadata: ["client_order_id": "\(id)", "error": "\(error)"])
            }
        }
    }

    /// Its positions and resting orders at one instant (between operations), for tests that
    /// check what is protected.
    public func bookSnapshot() async throws(VenueError) -> (positions: [PositionSnapshot], resting: [OrderRecord]) {
        await acquire(Self.everything)
        defer { release(Self.everything) }
        try await load()
        let rows: [(field: String, bytes: [UInt8])]
        do { rows = try await book.readAll([.positions])[0] } catch { throw .unreachable(message: error.message) }
        let positions = rows.compactMap { try? PositionStore.decode($0.bytes, field: $0.field) }.filter { $0.quantity > 0 }
        return (positions, resting.values.flatMap { $0 }.compactMap { orders[$0] })
    }

    // MARK: - the book

    private func free(_ symbol: String) -> Bool {
        symbol == Self.everything ? held.isEmpty : !held.contains(Self.everything) && !held.contains(symbol)
    }

    private func acquire(_ symbol: String) async {
        // Behind a waiting whole-venue operation, everyone queues (it is not starved).
        if free(symbol), !waiting.contains(where: { $0.symbol == Self.everything }) {
            held.insert(symbol)
            return
        }
        await withCheckedContinuation { waiting.append((symbol, $0)) }
    }

    private func release(_ symbol: String) {
        held.remove(symbol)
        var i = 0
        while i < waiting.count {
            let next = waiting[i].symbol
            if free(next) {
                held.insert(next)
                waiting.remove(at: i).continuation.resume()
            } else if next == Self.everything {
                break  // first come, first served for the whole venue
            } else {
                i += 1
            }
        }
    }

    /// Reads the book once; every caller meanwhile waits for that read (a second read finishing
    /// later would put back what the first caller has changed since).
    private func load() async throws(VenueError) {
        guard !loaded else { return }
        let task = loading ?? Task { try await self.readBook() }
        loading = task
        do { try await task.value } catch {
            if loading == task { loading = nil }
            throw (error as? VenueError) ?? .unreachable(message: "\(error)")
        }
    }

    private func readBook() async throws(VenueError) {
        guard !loaded else { return }
        let rows: [(field: String, bytes: [UInt8])]
        do { rows = try await book.paperOrders() } catch { throw .unreachable(message: error.message) }
        for row in rows {
            guard let record = try? OrderWrite.decode(row.bytes, field: row.field) else {
                logger.error("paper order not readable; ignored", metadata: ["client_order_id": "\(row.field)"])
                continue
            }
            if record.status.mayBeWorking { orders[row.field] = record }
            if record.type.isConditional, record.status.mayBeWorking { resting[record.key.symbol, default: []].insert(row.field) }
            for id in [record.venueOrderId, record.venueAlgoId].compactMap({ $0 }) { nextId = max(nextId, (Int64(id) ?? 0) + 1) }
        }
        loaded = true
    }

    /// What a ledger write found.
    enum Committed {
        /// Written.
        case written
        /// The position was not as this venue thought (written or removed by another client):
        /// nothing was written.
        case staleBook
    }

    /// Writes an order and the position it changes in one step; `positionExisted` is what the
    /// change was worked out from (checked against Redis), nil for no check.
    private func commit(
        _ record: OrderRecord, position: PaperLedgerWrite.PositionChange?, onlyIfNew: Bool, positionExisted: Bool? = nil
    ) async throws(VenueError) -> Committed {
        let json = record.jsonBytes()
        let outcome: PaperLedgerWrite.Outcome
        do {
            outcome = try await book.commitPaper(
                PaperLedgerWrite(
                    onlyIfNew: onlyIfNew, clientOrderId: record.clientOrderId, order: json, position: position,
                    positionExisted: position == nil ? nil : positionExisted))
        } catch { throw .unreachable(message: error.message) }
        switch outcome {
        case .duplicate: throw .refused(code: -4116, message: "ClientOrderId is duplicated.")
        case .positionChanged: return .staleBook
        case .written:
            switch position {
            case .store(let snapshot):
                positionCache[snapshot.key] = snapshot
                knownFlat.remove(snapshot.key)
            case .delete(let key):
                positionCache[key] = nil
                knownFlat.insert(key)
            case nil: break
            }
            return .written
        }
    }

    /// Several orders without a position change, each its own step, in one round trip: the
    /// outcomes in order (``placeAll(_:)`` and ``cancelAll(_:)``).
    private func storeTogether(_ records: [OrderRecord], onlyIfNew: Bool) async throws(VenueError) -> [PaperLedgerWrite.Outcome] {
        do {
            return try await book.commitPaperAll(
                records.map { PaperLedgerWrite(onlyIfNew: onlyIfNew, clientOrderId: $0.clientOrderId, order: $0.jsonBytes(), position: nil) })
        } catch { throw .unreachable(message: error.message) }
    }

    /// A position, from the cache unless `fresh`; a position known flat is read again before
    /// `reducing` it (another client may have opened it).
    private func snapshot(_ key: PositionKey, fresh: Bool = false, reducing: Bool = false) async throws(VenueError) -> PositionSnapshot? {
        if !fresh {
            if let cached = positionCache[key] { return cached }
            if !reducing, knownFlat.contains(key) { return nil }
        }
        do {
            guard let s = try await book.position(key), s.quantity > 0 else {
                positionCache[key] = nil
                knownFlat.insert(key)
                return nil
            }
            positionCache[key] = s
            knownFlat.remove(key)
            return s
        } catch { throw .unreachable(message: error.message) }
    }

    private func price(_ symbol: String) async throws(VenueError) -> Decimal? {
        if let known = prices[symbol] { return known }
        do {
            guard let stored = try await book.lastPrice(symbol) else { return nil }
            return Decimal(rounding: stored)
        } catch { throw .unreachable(message: error.message) }
    }

    /// A market fill of `quantity` at `price` with slippage against the taker; reduce-only
    /// fills at most what is open.
    private func fillMarket(
        _ quantity: Decimal, of request: OrderRequest, at price: Decimal, position: PositionSnapshot?, now: Date
    ) throws(VenueError) -> (quantity: Decimal, price: Decimal, position: PaperLedgerWrite.PositionChange) {
        let rules = symbolRules(request.symbol)
        let slip = Decimal(slippageBps) / 10_000
        let raw = request.side == .buy ? price * (1 + slip) : price * (1 - slip)
        let fillPrice = raw.rounded(toMultipleOf: rules.tickSize, .plain)
        let key = PositionKey(symbol: request.symbol, side: request.positionSide)
        let markDouble = fillPrice.doubleValue
        if request.reduceOnly {
            guard let position else { throw .reduceOnlyRefused(code: -2022, message: "ReduceOnly Order is rejected.") }
            let open = rules.quantity(Decimal(rounding: position.quantity), for: .market)
            let filled = Swift.min(quantity, open)
            let left = open - filled
            guard left > 0 else { return (filled, fillPrice, .delete(key)) }
            var next = position
            next.quantity = left.doubleValue
            next.markPrice = markDouble
            next.unrealizedPnl = Rounding.price((markDouble - next.entryPrice) * next.quantity * key.side.sign)
            next.updatedAt = now
            return (filled, fillPrice, .store(next))
        }
        let added = quantity.doubleValue
        var next: PositionSnapshot
        if let position {
            let total = Rounding.quantity(position.quantity + added)
            next = position
            next.entryPrice = Rounding.price((position.entryPrice * position.quantity + markDouble * added) / total)
            next.quantity = total
            if let leverage = request.leverage { next.leverage = leverage }
        } else {
            next = PositionSnapshot(
                symbol: key.symbol, side: key.side, quantity: Rounding.quantity(added), entryPrice: markDouble, markPrice: markDouble,
                leverage: request.leverage ?? 1, unrealizedPnl: 0, openedAt: now, updatedAt: now)
        }
        next.markPrice = markDouble
        next.updatedAt = now
        next.unrealizedPnl = Rounding.price((markDouble - next.entryPrice) * next.quantity * key.side.sign)
        return (quantity, fillPrice, .store(next))
    }

    private func apply(_ update: OrderUpdate, to record: OrderRecord, at: Date) throws(VenueError) -> OrderRecord {
        do { return try OrderLifecycle.apply(update, to: record, at: at) } catch {
            throw .refused(code: -1000, message: error.description)
        }
    }

    private func newId() -> String {
        defer { nextId += 1 }
        return String(nextId)
    }

    // MARK: - events

    private func emit(_ event: VenueEvent) {
        guard !dropping else { return }
        let delay = faults.eventDelay
        let targets = Array(subscribers.values)
        if delay == .zero {
            emittedCount += 1
            for c in targets { c.yield(event) }
        } else {
            Task {
                try? await Task.sleep(for: delay)
                self.delivered(event, to: targets)
            }
        }
    }

    private func delivered(_ event: VenueEvent, to targets: [AsyncStream<VenueEvent>.Continuation]) {
        emittedCount += 1
        for c in targets { c.yield(event) }
    }

    /// The position a fill left, as its event says it.
    static func venuePosition(_ change: PaperLedgerWrite.PositionChange, _ key: PositionKey) -> VenuePosition {
        switch change {
        case .store(let snapshot): venuePosition(snapshot)
        case .delete: VenuePosition(key: key, quantity: 0, entryPrice: 0)
        }
    }

    // MARK: - rules

    /// Whether `price` crosses a resting order's trigger: a stop against the position, a
    /// take-profit in its favour.
    static func crossed(_ trigger: Decimal, by price: Decimal, type: OrderType, side: PositionSide) -> Bool {
        switch (type, side) {
        case (.stopMarket, .long), (.takeProfitMarket, .short): price <= trigger
        case (.stopMarket, .short), (.takeProfitMarket, .long): price >= trigger
        case (.market, _): true
        }
    }

    /// What a query of the order reports.
    static func news(of record: OrderRecord) -> OrderUpdate {
        switch record.status {
        case .filled, .partiallyFilled:
            .filled(cumulative: record.filledQuantity, averagePrice: record.averagePrice, venueOrderId: record.venueOrderId)
        case .canceled: .canceled
        case .expired: .expired
        case .rejected: .rejected(code: nil, message: record.error ?? "rejected")
        case .new, .intent, .unknown: .accepted(venueOrderId: record.venueOrderId, venueAlgoId: record.venueAlgoId)
        }
    }

    static func venuePosition(_ s: PositionSnapshot) -> VenuePosition {
        VenuePosition(
            key: s.key, quantity: Decimal(rounding: s.quantity), entryPrice: Decimal(rounding: s.entryPrice),
            markPrice: Decimal(rounding: s.markPrice), leverage: s.leverage)
    }

    private static func die(_ why: String) -> Never {
        FileHandle.standardError.write(Data("paper venue fault: \(why): SIGKILL\n".utf8))
        kill(getpid(), SIGKILL)
        fatalError("unreachable")
    }
}
