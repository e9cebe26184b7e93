import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import PaperVenue
import RedisClient
import Support
import Testing
import Venue

/// A plan's resting orders go to the paper venue together: checked one by one as a single
/// order is, stored in one round trip.
@Suite("Paper venue: orders placed together", .enabled(if: TestRedis.enabled))
struct PaperPlaceAllTests {
    @Test func restingOrdersAreCheckedEachAndStoredInOneRoundTrip() async throws {
        let f = try await EngineFixture("paper-place-all")
        let venue = PaperVenue(book: f.book, logger: Logger(label: "test.venue"))
        await venue.observe(symbol: "BTCUSDT", price: 50_000)
        _ = try await venue.place(
            OrderRequest(clientOrderId: "en-1", symbol: "BTCUSDT", side: .buy, positionSide: .long, purpose: .entry, type: .market, quantity: 0.01))
        func exit(_ id: String, _ type: OrderType, _ trigger: Decimal) -> OrderRequest {
            OrderRequest(
                clientOrderId: id, symbol: "BTCUSDT", side: .sell, positionSide: .long, purpose: .exit, type: type, quantity: 0.003,
                triggerPrice: trigger)
        }
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
}
