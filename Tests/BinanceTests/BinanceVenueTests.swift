import BinanceVenue
import ExitBrainDomain
import Foundation
import Support
import Testing
import Venue

/// The adapter against the simulator: orders, positions, streams, and every fault the notes
/// name, each ending as the notes say.
@Suite("Binance adapter against the simulator")
struct BinanceVenueTests {
    static let long = PositionKey(symbol: "BTCUSDT", side: .long)

    static func entry(_ id: String, side: OrderSide = .buy, quantity: Decimal = Decimal(string: "0.010")!) -> OrderRequest {
        OrderRequest(
            clientOrderId: id, symbol: "BTCUSDT", side: side, positionSide: side.positionSide, purpose: .entry, type: .market,
            quantity: quantity, leverage: 10)
    }

    static func exit(_ id: String, _ type: OrderType, trigger: String, side: PositionSide = .long) -> OrderRequest {
        OrderRequest(
            clientOrderId: id, symbol: "BTCUSDT", side: side.exitOrderSide, positionSide: side, purpose: .exit, type: type,
            quantity: Decimal(string: "0.010")!, triggerPrice: Decimal(string: trigger))
    }

    @Test(arguments: [true, false])
    func ordersFillsAndPositionsInEitherMode(hedge: Bool) async throws {
        let sim = try await SimulatorHarness(hedge: hedge)
        defer { sim.stop() }
        let venue = sim.venue()
        let log = await EventLog.following(venue)
        try await log.wait("the user stream connected (a gap)") { $0.gaps >= 1 }
        let answer = try await venue.place(Self.entry("en-1"))
        guard case .filled(let filled, let average, _) = answer else {
            Issue.record("a RESULT market order answers filled: \(answer)")
            return
        }
        #expect(filled == Decimal(string: "0.01") && average == 50000)
        let position = try #require(try await venue.position(Self.long))
        #expect(position.quantity == Decimal(string: "0.01") && position.leverage == 10, "leverage set before the entry")
        #expect(try await venue.position(PositionKey(symbol: "BTCUSDT", side: .short)) == nil)
        guard case .accepted(_, let algoId?) = try await venue.place(Self.exit("eb-p-3-1", .stopMarket, trigger: "49000.0")) else {
            Issue.record("a stop is accepted with its algo id")
            return
        }
        _ = try await venue.place(Self.exit("eb-p-0-1", .takeProfitMarket, trigger: "50500.0"))
        #expect(Set(try await venue.openOrders().map(\.clientOrderId)) == ["eb-p-3-1", "eb-p-0-1"])
        guard case .accepted(_, let again?) = try await venue.query(clientOrderId: "eb-p-3-1", symbol: "BTCUSDT", conditional: true) else {
            Issue.record("query finds the stop")
            return
        }
        #expect(again == algoId)
        // The take-profit triggers on the simulator's price: its child fills, the position closes.
        try await sim.control.price("BTCUSDT", "50600.0")
        try await log.wait("the take-profit's fill") { $0.updates(of: "eb-p-0-1").contains { $0.isFill } }
        try await log.wait("the position closed") {
            $0.contains { if case .position(let p) = $0 { p.key == Self.long && p.quantity == 0 } else { false } }
        }
        try await log.wait("mark prices") { $0.contains { if case .price("BTCUSDT", let p) = $0 { p == 50600 } else { false } } }
        guard case .filled(let tp, _, _) = try await venue.query(clientOrderId: "eb-p-0-1", symbol: "BTCUSDT", conditional: true) else {
            Issue.record("the triggered take-profit queries as filled")
            return
        }
        #expect(tp == Decimal(string: "0.01"))
        // A quantity stop outlives the position (Binance does not expire it): cancelled by us.
        try await venue.cancel(clientOrderId: "eb-p-3-1", symbol: "BTCUSDT", conditional: true)
        #expect(try await venue.openOrders().isEmpty)
        await #expect(throws: VenueError.notFound(clientOrderId: "eb-p-3-1")) {
            try await venue.cancel(clientOrderId: "eb-p-3-1", symbol: "BTCUSDT", conditional: true)
        }
        let health = await venue.health()
        #expect(health.reachable && !health.degraded, "\(health.details)")
        #expect(health.details.contains { $0 == ("position_mode", hedge ? "HEDGE" : "ONE_WAY") })
        #expect(health.details.contains { $0.0 == "user_stream" && $0.1 == "CONNECTED" })
        await log.stop()
        await venue.shutdown()
    }

    @Test func aStopAlreadyCrossedIsWouldTriggerAndADuplicateIdIsTheOrderThatExists() async throws {
        let sim = try await SimulatorHarness(hedge: true)
        defer { sim.stop() }
        let venue = sim.venue()
        _ = try await venue.place(Self.entry("en-2"))
        do {
            _ = try await venue.place(Self.exit("eb-q-3-1", .stopMarket, trigger: "50100.0"))
            Issue.record("a stop above a long's price is refused")
        } catch {
            #expect(error == .wouldTriggerImmediately(message: "Order would immediately trigger."))
        }
        let first = try await venue.place(Self.exit("eb-q-3-2", .stopMarket, trigger: "49000.0"))
        let second = try await venue.place(Self.exit("eb-q-3-2", .stopMarket, trigger: "49000.0"))
        #expect(first == second, "-4116: the order already open is the answer")
        #expect(try await sim.control.state().acceptances["eb-q-3-2"] == 1, "one order at the venue")
        await venue.shutdown()
    }

    @Test func aClockSkewIsResyncedAndRetriedOnce() async throws {
        let sim = try await SimulatorHarness(hedge: true)
        defer { sim.stop() }
        let venue = sim.venue()
        _ = try await venue.place(Self.entry("en-3"))
        let before = try await sim.control.state().count("GET /fapi/v1/time")
        try await sim.control.faults(#"{"clock_offset_ms":-3000}"#)
        // The server's clock is now 3 s behind ours (our stamps are in its future): -1021, a
        // fresh offset, the same request again.
        _ = try await venue.place(Self.exit("eb-r-3-1", .stopMarket, trigger: "49000.0"))
        let state = try await sim.control.state()
        #expect(state.count("GET /fapi/v1/time") == before + 1, "the server time read again once")
        #expect(state.acceptances["eb-r-3-1"] == 1)
        #expect(await venue.health().details.contains { $0.0 == "clock_offset_ms" && abs(Int($0.1) ?? 0) >= 2500 })
        await venue.shutdown()
    }

    @Test func rateLimitsBackOffBansStopEverythingAndExitsKeepPriority() async throws {
        let sim = try await SimulatorHarness(hedge: true)
        defer { sim.stop() }
        let venue = sim.venue()
        _ = try await venue.place(Self.entry("en-4"))
        try await sim.control.faults(#"{"fail_next":[{"code":-1003,"status":429,"path":"/fapi/v2/positionRisk"}]}"#)
        await #expect(throws: VenueError.self) { _ = try await venue.positions() }
        let limited = await venue.health()
        #expect(limited.degraded && limited.reachable, "429: DEGRADED, \(limited.details)")
        // During the back-off an entry waits without leaving; a reduce-only exit still goes.
        let sent = try await sim.control.state().count("POST /fapi/v1/order")
        do {
            _ = try await venue.place(Self.entry("en-5"))
            Issue.record("an entry during the back-off waits")
        } catch {
            guard case .rateLimited = error else {
                Issue.record("rate limited expected, got \(error)")
                return
            }
        }
        #expect(try await sim.control.state().count("POST /fapi/v1/order") == sent, "nothing left for the entry")
        _ = try await venue.place(Self.exit("eb-s-3-1", .stopMarket, trigger: "49000.0"))
        #expect(try await sim.control.state().acceptances["eb-s-3-1"] == 1, "the exit went")

        try await sim.control.faults(#"{"ban_seconds":2,"ban_now":true}"#)
        await #expect(throws: VenueError.self) { _ = try await venue.place(Self.exit("eb-s-0-1", .takeProfitMarket, trigger: "51000.0")) }
        let banned = await venue.health()
        #expect(!banned.reachable, "418: the venue is DOWN, \(banned.details)")
        let requests = try await sim.control.state().requests.values.reduce(0, +)
        await #expect(throws: VenueError.self) { _ = try await venue.place(Self.exit("eb-s-0-1", .takeProfitMarket, trigger: "51000.0")) }
        #expect(try await sim.control.state().requests.values.reduce(0, +) == requests, "nothing is sent while banned")
        try await Task.sleep(for: .milliseconds(2200))
        _ = try await venue.place(Self.exit("eb-s-0-1", .takeProfitMarket, trigger: "51000.0"))
        #expect(await venue.health().reachable, "back after the ban")
        await venue.shutdown()
    }

    @Test func anOrderAcceptedButNeverAnsweredIsUnknownThenFoundByQuery() async throws {
        let sim = try await SimulatorHarness(hedge: true)
        defer { sim.stop() }
        let venue = sim.venue(timeout: .milliseconds(600))
        _ = try await venue.place(Self.entry("en-6"))
        try await sim.control.faults(#"{"silent_placements":1}"#)
        do {
            _ = try await venue.place(Self.exit("eb-t-3-1", .stopMarket, trigger: "49000.0"))
            Issue.record("no answer came: the outcome is unknown")
        } catch {
            guard case .unknownOutcome = error else {
                Issue.record("unknown outcome expected, got \(error)")
                return
            }
        }
        guard case .accepted = try await venue.query(clientOrderId: "eb-t-3-1", symbol: "BTCUSDT", conditional: true) else {
            Issue.record("the query finds the order the venue took")
            return
        }
        #expect(try await sim.control.state().acceptances["eb-t-3-1"] == 1)
        await venue.shutdown()
    }

    @Test func anExpiredListenKeyAndADroppedStreamAreGapsThenReconnected() async throws {
        let sim = try await SimulatorHarness(hedge: true)
        defer { sim.stop() }
        let venue = sim.venue()
        let log = await EventLog.following(venue)
        try await log.wait("connected") { $0.gaps >= 1 }
        _ = try await venue.place(Self.entry("en-7"))
        _ = try await venue.place(Self.exit("eb-u-0-1", .takeProfitMarket, trigger: "50500.0"))
        let gaps = await log.events.gaps
        // Dropped while the take-profit fills: the fill's events are lost, the gap is reported.
        try await sim.control.faults(#"{"drop_user_stream":true}"#)
        try await sim.control.price("BTCUSDT", "50600.0")
        try await log.wait("a gap and a reconnect", within: .seconds(8)) { $0.gaps >= gaps + 2 }
        #expect(try await sim.control.state().events_lost > 0, "the fill's events went nowhere")
        // The truth after the gap is REST's.
        guard case .filled = try await venue.query(clientOrderId: "eb-u-0-1", symbol: "BTCUSDT", conditional: true) else {
            Issue.record("the fill is found by query after the gap")
            return
        }
        let beforeExpiry = await log.events.gaps
        try await sim.control.faults(#"{"expire_listen_key":true}"#)
        try await log.wait("a new key and a reconnect", within: .seconds(8)) { $0.gaps >= beforeExpiry + 2 }
        try await Task.sleep(for: .milliseconds(200))
        let state = try await sim.control.state()
        #expect(state.listen_key_live && state.user_streams == 1, "one live stream on a new key")
        #expect(await venue.health().details.contains { $0 == ("user_stream", "CONNECTED") })
        await log.stop()
        await venue.shutdown()
    }

    @Test func theListenKeyIsKeptAliveAndTheConnectionRenewedAtItsLifetime() async throws {
        let sim = try await SimulatorHarness(hedge: true)
        defer { sim.stop() }
        // Binance's 30 min and 24 h, shrunk: keepalive every 200 ms, a connection lives 1.5 s.
        let venue = sim.venue(keepalive: .milliseconds(200), lifetime: .milliseconds(1500))
        let log = await EventLog.following(venue)
        try await log.wait("connected") { $0.gaps >= 1 }
        try await log.wait("the connection renewed at its lifetime", within: .seconds(6)) { $0.gaps >= 3 }
        let state = try await sim.control.state()
        #expect(state.count("PUT /fapi/v1/listenKey") >= 4, "keepalives sent: \(state.requests)")
        // At its lifetime the connection ended (a gap) and a new one opened (another gap).
        #expect(state.count("POST /fapi/v1/listenKey") >= 2, "the key asked for again on the new connection")
        // The key closed at the venue (its stream with it): a new key, a new connection.
        let gaps = await log.events.gaps
        _ = try await sim.control.send(.DELETE, "/fapi/v1/listenKey", signed: false)
        try await log.wait("a gap and a reconnect on a new key", within: .seconds(5)) { $0.gaps >= gaps + 2 }
        try await Task.sleep(for: .milliseconds(300))
        let after = try await sim.control.state()
        #expect(after.listen_key_live && after.user_streams == 1, "one live stream on a new key")
        await log.stop()
        await venue.shutdown()
    }

    @Test func aRefusedKeyIsDown() async throws {
        let sim = try await SimulatorHarness(hedge: true)
        defer { sim.stop() }
        let venue = sim.venue(key: "not-the-key")
        await #expect(throws: VenueError.self) { _ = try await venue.positions() }
        let health = await venue.health()
        #expect(!health.reachable)
        #expect(!health.details.contains { $0.1.contains("not-the-key") || $0.1.contains(sim.control.apiSecret) }, "no secret in health")
        await venue.shutdown()
    }
}
