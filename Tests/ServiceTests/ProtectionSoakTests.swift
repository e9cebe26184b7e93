import ExecutionService
import ExitBrainCoordination
import ExitBrainDomain
import ExitBrainService
import Foundation
import Logging
import PaperVenue
import Support
import Synchronization
import Testing
import Venue

/// The claim of `EXIT_ORDERS=VENUE`: a position is never without a resting stop, and no stop
/// rests for a closed position. A seeded random walk over many positions (60 s; set
/// `EXITBRAIN_PROTECTION_SOAK_S` to change it) on real Redis, with a sampler that looks at the
/// paper venue's book at every venue event.
@Suite("Never unprotected", .serialized, .enabled(if: TestRedis.enabled))
struct ProtectionSoakTests {
    /// How long a new position may wait for its first stop, and a stop may outlive its
    /// position: one pass of the service's order housekeeping, with room for a loaded machine.
    static let interval = Duration.seconds(1)

    @Test func everyOpenPositionHasARestingStopAtEveryVenueEvent() async throws {
        let seconds = Double(ProcessInfo.processInfo.environment["EXITBRAIN_PROTECTION_SOAK_S"] ?? "") ?? 60
        let f = try await EngineFixture("protect")
        let h = await f.harness()
        let engine = h.engine
        let symbols = (0..<8).map { "W\($0)USDT" }
        for symbol in symbols {
            try await h.signal(.buy, symbol: symbol, quantity: 1, price: 100)
            try await h.signal(.sell, symbol: symbol, quantity: 1, price: 100)
        }

        // The service's housekeeping: orders every 250 ms, plans every 2 s.
        let housekeeping = Task {
            var n = 0
            while !Task.isCancelled {
                await engine.maintainOrders()
                if n % 8 == 0 { try? await engine.resync() }
                n += 1
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        defer { housekeeping.cancel() }

        // The sampler: at every venue event, the venue's book at that instant.
        let findings = Findings()
        let events = await h.venue.events()
        let venue = h.venue
        let sampler = Task {
            var stopsWithoutPosition: [String: ContinuousClock.Instant] = [:]
            for await _ in events {
                guard let book = try? await venue.bookSnapshot() else { continue }
                let now = Date()
                let clock = ContinuousClock.now
                let stops = book.resting.filter { $0.type == .stopMarket }
                let protected = Set(stops.map(\.key))
                let open = Set(book.positions.map(\.key))
                for position in book.positions where !protected.contains(position.key) {
                    let age = now.timeIntervalSince(position.openedAt ?? .distantPast)
                    if age > Self.interval.secondsValue { findings.add("\(position.key) open \(age) s without a resting stop") }
                }
                for stop in stops where !open.contains(stop.key) {
                    let since = stopsWithoutPosition[stop.clientOrderId] ?? clock
                    stopsWithoutPosition[stop.clientOrderId] = since
                    if clock - since > Self.interval {
                        findings.add("stop \(stop.clientOrderId) rests for closed \(stop.key) since \(clock - since)")
                    }
                }
                for id in stopsWithoutPosition.keys where !stops.contains(where: { $0.clientOrderId == id && !open.contains($0.key) }) {
                    stopsWithoutPosition[id] = nil
                }
                findings.sampled()
            }
        }
        defer { sampler.cancel() }

        // The walk: a seeded random step on one symbol every few milliseconds; a closed
        // position is opened again, so there are always many.
        var rng = SplitMix64(seed: 13)
        var prices = Dictionary(uniqueKeysWithValues: symbols.map { ($0, 100.0) })
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(Int(seconds * 1000))
        var reopened = 0
        var step = 0
        while clock.now < end {
            step += 1
            let symbol = symbols[Int(rng.next() % UInt64(symbols.count))]
            let move = (Double(rng.next() % 2001) / 1000 - 1) * 0.004
            let price = Rounding.price(max(50, min(200, prices[symbol]! * (1 + move))))
            prices[symbol] = price
            await engine.handleTick(MarketTick(symbol: symbol, price: price))
            if step % 50 == 0 {
                for symbol in symbols {
                    for side in [OrderSide.buy, .sell] where try await f.positions.get(PositionKey(symbol: symbol, side: side.positionSide)) == nil {
                        try? await h.signal(side, symbol: symbol, quantity: 1, price: prices[symbol]!)
                        reopened += 1
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(3))
        }
        await h.settle()
        try await Task.sleep(for: Self.interval + .milliseconds(500))
        housekeeping.cancel()
        sampler.cancel()
        let closed = try await f.plans.history(count: 10_000).count
        let problems = findings.all
        print(
            "never unprotected: \(step) ticks, \(findings.samples) samples at venue events, \(closed) plans closed, \(reopened) positions opened again"
        )
        #expect(problems.isEmpty, "\(problems.count) findings, first: \(problems.prefix(5))")
        #expect(findings.samples > Int(seconds * 15), "the sampler saw \(findings.samples) venue events")
        #expect(closed >= Int(seconds / 2), "the walk closed \(closed) plans: stops and TPs were exercised")
        await f.cleanup()
    }
}

/// What the sampler found, shared with the test.
final class Findings: Sendable {
    private let state = Mutex<(problems: [String], samples: Int)>(([], 0))
    func add(_ problem: String) { state.withLock { if $0.problems.count < 100 { $0.problems.append(problem) } } }
    func sampled() { state.withLock { $0.samples += 1 } }
    var all: [String] { state.withLock { $0.problems } }
    var samples: Int { state.withLock { $0.samples } }
}
