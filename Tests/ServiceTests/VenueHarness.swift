import ExecutionService
import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import PaperVenue
import Synchronization
import Venue

/// An execution engine trading on a paper venue over one book, with the venue's events pumped
/// into the engine as the service does; ``settle()`` waits until every event the venue has
/// emitted so far has been handled.
final class VenueHarness: Sendable {
    let venue: PaperVenue
    let engine: ExecutionEngine
    private let handled = HandledCount()
    private let pump: Task<Void, Never>
    private let worker: Task<Void, Never>

    init(book: any BookStore, config: ExecutionConfiguration, faults: PaperFaults = PaperFaults(), reader: (any BookReading)? = nil) async {
        let venue = PaperVenue(book: book, slippageBps: config.slippageBps, faults: faults, logger: Logger(label: "test.venue"))
        let engine = ExecutionEngine(config: config, book: book, venue: venue, logger: Logger(label: "test.engine"), reader: reader)
        let events = await venue.events()
        let handled = self.handled
        self.venue = venue
        self.engine = engine
        worker = Task { await engine.workOrders() }
        // As the service takes them: what waited as one batch, symbols side by side.
        pump = Task { await engine.follow(events) { handled.add($0) } }
    }

    deinit {
        pump.cancel()
        worker.cancel()
    }

    /// Waits (up to 5 s) until the engine has handled every event emitted so far and has no
    /// order work left, three times over (handling one can make the venue emit more).
    func settle() async {
        for _ in 0..<3 {
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline {
                let emitted = await venue.emittedCount
                if handled.value >= emitted, await !engine.orderWorkPending { break }
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
    }

    /// A signal, then everything it set off.
    func signal(
        _ side: OrderSide, symbol: String = "BTCUSDT", id: String = RandomUUID.string(), quantity: Double = 0.01, price: Double = 50_000,
        action: SignalAction = .open, context: PlanContext = PlanContext()
    ) async throws {
        let meta = EnvelopeMeta(id: id, type: "trade.signal", source: "test", ts: "")
        try await engine.handleSignal(
            TradeSignal(symbol: symbol, side: side, quantity: quantity, leverage: 10, price: price, action: action, context: context), meta: meta)
        await settle()
    }

    /// A tick, then everything it set off.
    func tick(_ price: Double, symbol: String = "BTCUSDT") async {
        await engine.handleTick(MarketTick(symbol: symbol, price: price))
        await settle()
    }

    /// The venue's resting orders for a position.
    func resting(_ key: PositionKey, in book: [String: OrderRecord]) -> [OrderRecord] {
        book.values.filter { $0.key == key && $0.type.isConditional && $0.status.mayBeWorking }.sorted { $0.clientOrderId < $1.clientOrderId }
    }
}

/// How many venue events a pump has handled.
final class HandledCount: Sendable {
    private let count = Mutex(0)
    func add(_ n: Int) { count.withLock { $0 += n } }
    var value: Int { count.withLock { $0 } }
}
