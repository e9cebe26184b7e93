import ExecutionService
import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import PaperVenue
import RedisClient
import Synchronization
import Venue

/// The order lifecycle's figures (issue 13), beside a PING timed the same way in the same run:
/// how long from a plan stored to its SL resting at the paper venue (and recorded `NEW`), in
/// round trips and time; and a restart's reconciliation of a large book with its resting orders.
enum VenueBench {
    static func run(config: RedisConfiguration, signals: Int, positions: Int) async throws {
        let conn = RedisConnection(configuration: config, name: "bench-venue")
        let pingMs = try await ping(conn)
        print(String(format: "venue (paper, EXIT_ORDERS=VENUE, one connection; PING p50 %.3f ms)", pingMs))
        try await planToRestingStop(config: config, conn: conn, signals: signals, pingMs: pingMs)
        try await restartReconciliation(config: config, conn: conn, positions: positions, pingMs: pingMs)
        await conn.close()
    }

    /// Waits until the engine has no order work queued or out.
    static func idle(_ engine: ExecutionEngine) async {
        while await engine.orderWorkPending { try? await Task.sleep(for: .microseconds(50)) }
    }

    static func ping(_ conn: RedisConnection) async throws -> Double {
        BenchSupport.percentile(try await BenchSupport.pings(conn, count: 300), 0.5) / 1e3
    }

    static func book(_ conn: RedisConnection, _ ns: Namespace) -> RedisBook {
        let bus = EventBus(redis: conn, namespace: ns, source: "execution-service")
        return RedisBook(plans: PlanStore(redis: conn, namespace: ns, bus: bus), positions: PositionStore(redis: conn, namespace: ns), bus: bus)
    }

    static func engine(_ book: RedisBook, _ ns: Namespace, config: RedisConfiguration) throws -> (ExecutionEngine, PaperVenue, TimedVenue) {
        let env = [
            "EXIT_EXECUTOR_MODE": "LIVE", "REDIS_NAMESPACE": ns.prefix, "REDIS_URL": "redis://\(config.host):\(config.port)/\(config.database)",
        ]
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let paper = PaperVenue(book: book, logger: logger)
        let timed = TimedVenue(paper, book: book)
        let engine = ExecutionEngine(config: try ExecutionConfiguration(environment: env), book: book, venue: timed, logger: logger)
        return (engine, paper, timed)
    }

    /// Each signal's entry fills at once; the plan is stored with its intents; the SL goes out
    /// first. The venue wrapper notes when the SL's request starts (the plan is stored) and when
    /// it returns (the SL rests), with the connection's round-trip count at each; the end is
    /// when the engine has no order work left (all four rest, their records and events written).
    static func planToRestingStop(config: RedisConfiguration, conn: RedisConnection, signals: Int, pingMs: Double) async throws {
        let ns = try Namespace("bench-venue-\(getpid())")
        let book = book(conn, ns)
        let (engine, _, timed) = try engine(book, ns, config: config)
        let worker = Task { await engine.workOrders() }
        defer { worker.cancel() }
        var resting: [Double] = []
        var recorded: [Double] = []
        var tripsResting: [Int] = []
        var tripsRecorded: [Int] = []
        var perSignal: [Int] = []
        for i in 0..<signals {
            timed.reset()
            let before = book.roundTrips
            let meta = EnvelopeMeta(id: "bench-\(i)", type: "trade.signal", source: "bench", ts: "")
            try await engine.handleSignal(TradeSignal(symbol: "V\(i)USDT", side: .buy, quantity: 1, leverage: 10, price: 100), meta: meta)
            await idle(engine)
            let done = (at: ContinuousClock.now, trips: book.roundTrips)
            perSignal.append(book.roundTrips - before)
            let marks = timed.marks.filter { $0.what != "entry" }
            guard marks.count >= 2 else { continue }
            resting.append((marks[1].at - marks[0].at).secondsValue * 1e3)
            recorded.append((done.at - marks[0].at).secondsValue * 1e3)
            tripsResting.append(marks[1].trips - marks[0].trips)
            tripsRecorded.append(done.trips - marks[0].trips)
        }
        guard !resting.isEmpty else {
            print("  no SL was placed: nothing to measure")
            return
        }
        let p = BenchSupport.percentile
        func median(_ v: [Int]) -> Int { v.sorted()[v.count / 2] }
        print(
            String(
                format: "  plan stored → SL resting at the venue: p50 %.3f ms, p99 %.3f ms, %d round trips (%.1f× PING p50)",
                p(resting, 0.5), p(resting, 0.99), median(tripsResting), p(resting, 0.5) / pingMs))
        print(
            String(
                format:
                    "  plan stored → SL and 3 TPs resting, recorded NEW, order.placed sent: p50 %.3f ms, p99 %.3f ms, %d round trips (%.1f× PING p50)",
                p(recorded, 0.5), p(recorded, 0.99), median(tripsRecorded), p(recorded, 0.5) / pingMs))
        print("  a whole signal (entry intent, fill, plan with 4 intents, SL and 3 TPs resting and recorded): \(median(perSignal)) round trips")
        try await BenchSupport.deleteNamespace(ns, on: conn)
    }

    /// A book of `count` positions, each with its plan and four resting orders, made by one
    /// engine; then a new engine and venue (a restart) reconcile: time and round trips.
    static func restartReconciliation(config: RedisConfiguration, conn: RedisConnection, positions count: Int, pingMs: Double) async throws {
        let ns = try Namespace("bench-venue-restart-\(getpid())")
        let book = book(conn, ns)
        let (first, _, _) = try engine(book, ns, config: config)
        let worker = Task { await first.workOrders() }
        defer { worker.cancel() }
        let clock = ContinuousClock()
        let fillStart = clock.now
        for i in 0..<count {
            let meta = EnvelopeMeta(id: "fill-\(i)", type: "trade.signal", source: "bench", ts: "")
            try await first.handleSignal(
                TradeSignal(symbol: "R\(i)USDT", side: i % 3 == 0 ? .sell : .buy, quantity: 1, leverage: 10, price: 100), meta: meta)
        }
        await idle(first)
        let records = try await book.orderRecords().count
        print(
            String(
                format: "  restart with %d positions, %d order records, %d resting orders (made in %.1f s):", count, records, records - count,
                (clock.now - fillStart).secondsValue))
        let (second, _, _) = try engine(book, ns, config: config)
        let trips = book.roundTrips
        let t = clock.now
        let report = try await second.reconcile()
        let seconds = (clock.now - t).secondsValue
        print(
            String(
                format: "    reconciliation: %.0f ms, %d round trips (%.0f PINGs' worth of waiting); queried %d, cancelled %d, closed %d",
                seconds * 1e3, book.roundTrips - trips, Double(book.roundTrips - trips), report.queried, report.orphansCancelled, report.plansClosed))
        _ = pingMs
        try await BenchSupport.deleteNamespace(ns, on: conn)
    }
}

/// A venue that notes when each conditional request starts and returns, with the connection's
/// round-trip count (bench only).
final class TimedVenue: Venue {
    struct Mark {
        let at: ContinuousClock.Instant
        let trips: Int
        /// `entry` (an entry's answer came), `start` (a conditional request left), `stop` (the SL's answer came).
        let what: String
    }

    let inner: any Venue
    let book: RedisBook
    private let log = Mutex<[Mark]>([])

    init(_ inner: any Venue, book: RedisBook) {
        self.inner = inner
        self.book = book
    }

    var kind: String { inner.kind }
    var marks: [Mark] { log.withLock { $0 } }
    func reset() { log.withLock { $0 = [] } }
    private func mark(_ what: String) { log.withLock { $0.append(Mark(at: ContinuousClock.now, trips: book.roundTrips, what: what)) } }

    func rules(for symbol: String) async throws(VenueError) -> SymbolRules { try await inner.rules(for: symbol) }
    func place(_ request: OrderRequest) async throws(VenueError) -> OrderUpdate {
        if request.type.isConditional { mark("start") }
        defer {
            if request.type == .stopMarket { mark("stop") }
            if request.purpose == .entry { mark("entry") }
        }
        return try await inner.place(request)
    }
    func cancel(clientOrderId: String, symbol: String, conditional: Bool) async throws(VenueError) {
        try await inner.cancel(clientOrderId: clientOrderId, symbol: symbol, conditional: conditional)
    }
    func query(clientOrderId: String, symbol: String, conditional: Bool) async throws(VenueError) -> OrderUpdate {
        try await inner.query(clientOrderId: clientOrderId, symbol: symbol, conditional: conditional)
    }
    func openOrders() async throws(VenueError) -> [OpenOrder] { try await inner.openOrders() }
    func positions() async throws(VenueError) -> [VenuePosition] { try await inner.positions() }
    func position(_ key: PositionKey) async throws(VenueError) -> VenuePosition? { try await inner.position(key) }
    func observe(symbol: String, price: Decimal) async { await inner.observe(symbol: symbol, price: price) }
    func events() async -> AsyncStream<VenueEvent> { await inner.events() }
    func health() async -> VenueHealth { await inner.health() }
    func markPrice(_ symbol: String) async throws(VenueError) -> Decimal? { try await inner.markPrice(symbol) }
}
