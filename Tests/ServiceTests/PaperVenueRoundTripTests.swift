import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import PaperVenue
import RedisClient
import Support
import Testing
import Venue

/// What the paper venue's orders cost in round trips: a plan's resting orders go together
/// (checked one by one as a single order is, stored in one round trip), and an entry reads
/// nothing before its fill.
@Suite("Paper venue: round trips of orders", .enabled(if: TestRedis.enabled))
struct PaperVenueRoundTripTests {
    /// A paper venue over the fixture's book holding a BTCUSDT long of 0.01 (entry `en-1` at 50 000).
    func venueWithALong(_ f: EngineFixture) async throws -> PaperVenue {
        let venue = PaperVenue(book: f.book, logger: Logger(label: "test.venue"))
        await venue.observe(symbol: "BTCUSDT", price: 50_000)
        _ = try await venue.place(
            OrderRequest(clientOrderId: "en-1", symbol: "BTCUSDT", side: .buy, positionSide: .long, purpose: .entry, type: .market, quantity: 0.01))
        return venue
    }

    /// A resting exit of 0.003 of that long.
    func exit(_ id: String, _ type: OrderType, _ trigger: Decimal) -> OrderRequest {
        OrderRequest(
            clientOrderId: id, symbol: "BTCUSDT", side: .sell, positionSide: .long, purpose: .exit, type: type, quantity: 0.003, triggerPrice: trigger
        )
    }

    @Test func restingOrdersAreCheckedEachAndStoredInOneRoundTrip() async throws {
        let f = try await EngineFixture("paper-place-all")
        let venue = try await venueWithALong(f)
        let requests = [
            exit("sl-1", .stopMarket, 48_750), exit("tp-1", .takeProfitMarket, 50_750), exit("tp-1", .takeProfitMarket, 51_250),
            exit("tp-3", .takeProfitMarket, 49_000), exit("tp-4", .takeProfitMarket, 52_000),
        ]
        let before = f.redis.stats.roundTrips
        let answers = await venue.placeAll(requests)
        let trips = f.redis.stats.roundTrips - before
        #expect(trips == 1, "\(trips) round trips for five orders")
        #expect(answers.count == 5)
        for i in [0, 1, 4] { #expect((try? answers[i].get()).map { if case .accepted = $0 { true } else { false } } == true, "\(i): \(answers[i])") }
        guard case .failure(.refused(-4116, _)) = answers[2] else {
            Issue.record("a client id twice in one batch: \(answers[2])")
            return
        }
        guard case .failure(.wouldTriggerImmediately) = answers[3] else {
            Issue.record("a take-profit below the price of a long: \(answers[3])")
            return
        }
        let stored = try await f.paperBook()
        #expect(Set(stored.keys) == ["en-1", "sl-1", "tp-1", "tp-4"])
        #expect(stored["tp-1"]?.triggerPrice == 50_750 && stored["sl-1"]?.status == .new)
        // Sent again: each is a duplicate, as a single order would be.
        let again = await venue.placeAll([exit("sl-1", .stopMarket, 48_750), exit("tp-4", .takeProfitMarket, 52_000)])
        #expect(again.allSatisfy { if case .failure(.refused(-4116, _)) = $0 { true } else { false } }, "\(again)")
        await f.cleanup()
    }

    @Test func theBookIsReadOnceHoweverManySymbolsAskFirst() async throws {
        let book = InMemoryBook()
        let venue = PaperVenue(book: book, logger: Logger(label: "test.venue"))
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                group.addTask { _ = try? await venue.query(clientOrderId: "x-\(i)", symbol: "S\(i)USDT", conditional: false) }
            }
        }
        #expect(book.paperReads == 1, "\(book.paperReads) reads of the paper book")
        _ = try? await venue.query(clientOrderId: "x-0", symbol: "S0USDT", conditional: false)
        #expect(book.paperReads == 1)
    }

    @Test func aClosedPositionsRestingOrdersAreCancelledInOneRoundTrip() async throws {
        let f = try await EngineFixture("paper-cancel-all")
        let venue = try await venueWithALong(f)
        let placed = await venue.placeAll([
            exit("sl-1", .stopMarket, 48_750), exit("tp-1", .takeProfitMarket, 50_750), exit("tp-2", .takeProfitMarket, 51_250),
        ])
        #expect(placed.allSatisfy { (try? $0.get()) != nil }, "\(placed)")
        let targets = ["tp-1", "nothing-1", "sl-1", "tp-2", "tp-1"].map { OpenOrder(clientOrderId: $0, symbol: "BTCUSDT", conditional: true) }
        let before = f.redis.stats.roundTrips
        let outcomes = await venue.cancelAll(targets)
        #expect(f.redis.stats.roundTrips - before == 1, "one round trip for three cancels")
        #expect(outcomes.count == 5)
        for i in [0, 2, 3] { #expect((try? outcomes[i].get()) != nil, "\(i): \(outcomes[i])") }
        for i in [1, 4] {
            guard case .failure(.notFound) = outcomes[i] else {
                Issue.record("an order the venue does not have (or has cancelled already in this batch): \(outcomes[i])")
                continue
            }
        }
        let stored = try await f.paperBook()
        #expect(["sl-1", "tp-1", "tp-2"].allSatisfy { stored[$0]?.status == .canceled }, "\(stored.mapValues(\.status))")
        #expect(try await venue.openOrders().isEmpty)
        // Cancelled again: each is gone, as a single cancel would find.
        let again = await venue.cancelAll(Array(targets.prefix(3)))
        #expect(again.allSatisfy { if case .failure(.notFound) = $0 { true } else { false } }, "\(again)")
        await f.cleanup()
    }

    /// The entry assumes the position the venue knows (none, for a venue just started over a
    /// book that has one): the ledger script finds otherwise, and the fill is worked out again
    /// on the position read then, so the add is not lost.
    @Test func anEntryReadsNothingFirstAndAnUnknownPositionIsAddedTo() async throws {
        let f = try await EngineFixture("paper-entry-reads")
        func entry(_ id: String, _ symbol: String = "ETHUSDT") -> OrderRequest {
            OrderRequest(clientOrderId: id, symbol: symbol, side: .buy, positionSide: .long, purpose: .entry, type: .market, quantity: 1)
        }
        let first = PaperVenue(book: f.book, logger: Logger(label: "test.venue"))
        await first.observe(symbol: "ETHUSDT", price: 3000)
        await first.observe(symbol: "SOLUSDT", price: 150)
        _ = try await first.place(entry("en-0", "SOLUSDT"))  // the venue reads its book once
        let before = f.redis.stats.roundTrips
        _ = try await first.place(entry("en-a"))
        #expect(f.redis.stats.roundTrips - before == 1, "a new position: the fill alone, no read before it")
        _ = try await first.place(entry("en-b"))
        // A second venue over the same book, as after a restart: it knows no position.
        let second = PaperVenue(book: f.book, logger: Logger(label: "test.venue"))
        await second.observe(symbol: "ETHUSDT", price: 3100)
        _ = try await second.place(entry("en-c"))
        let position = try #require(try await f.positions.get(PositionKey(symbol: "ETHUSDT", side: .long)))
        #expect(position.quantity == 3, "the third entry added to the two before it: \(position.quantity)")
        #expect(abs(position.entryPrice - (3000 * 2 + 3100) / 3) < 0.01, "\(position.entryPrice)")
        await f.cleanup()
    }
}
