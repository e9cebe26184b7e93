import BinanceProtocol
import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient
import Support
import Testing
import Venue

/// The real binary with `EXCHANGE=binance` against `exitbrain venue-sim`: whole plans at the
/// venue, positions opened by hand, crashes, stream gaps and the faults of BINANCE_NOTES.md.
@Suite("Binance venue, end to end", .serialized, .enabled(if: TestRedis.isCI || TestProcess.find("redis-server") != nil, "needs redis-server"))
struct BinanceSystemTests {
    /// A fixture, a simulator, and the helpers that read both.
    struct World {
        let f: SystemFixture
        let sim: SimulatorProcess

        init(_ label: String, hedge: Bool) async throws {
            f = try await SystemFixture(label)
            sim = try await SimulatorProcess(hedge: hedge)
        }

        func start(_ kind: ServiceUnderTest.Kind, _ extra: [String: String] = [:]) throws -> ServiceUnderTest {
            try f.start(kind, sim.serviceEnvironment.merging(extra) { $1 })
        }

        /// The open conditional orders of a symbol's position side (BOTH in one-way mode).
        func exits(_ symbol: String, _ side: PositionSide) async throws -> [AlgoOrderAnswer] {
            let positionSide = sim.hedge ? side.rawValue : "BOTH"
            return try await sim.control.state().open_algo_orders.filter { $0.symbol == symbol && $0.positionSide == positionSide }
        }

        func amount(_ symbol: String, _ side: PositionSide) async throws -> Decimal {
            let state = try await sim.control.state()
            return sim.hedge ? abs(state.amount(symbol, side.rawValue)) : abs(state.amount(symbol, "BOTH"))
        }

        /// A price just past `level` in the position's favour (`favour`) or against it.
        func cross(_ symbol: String, _ level: Double, _ side: PositionSide, favour: Bool = true) async throws {
            let up = (side == .long) == favour
            try await sim.control.price(symbol, String(format: "%.1f", level * (up ? 1.002 : 0.998)))
        }

        func stop() async {
            await f.stopAll()
            await sim.stop()
        }
    }

    static func decimal(_ text: String) -> Decimal { Decimal(string: text) ?? -1 }

    @Test(arguments: [(true, PositionSide.long), (true, .short), (false, .long), (false, .short)])
    func aPlanLivesAtTheVenueFromEntryToClose(hedge: Bool, side: PositionSide) async throws {
        let w = try await World("bn-life-\(hedge ? "h" : "o")\(side.rawValue.prefix(1))", hedge: hedge)
        let exec = try w.start(.execution, ["BINANCE_USER_STREAM_FORM": hedge ? "query" : "path"])
        try await exec.waitHealth(200, within: .seconds(20))
        let key = "BTCUSDT:\(side.rawValue)"
        try await w.f.publish(.tradeSignal, w.f.signalJSON("BTCUSDT", side == .long ? "BUY" : "SELL", quantity: 0.01, price: 50_000))
        try await w.f.eventually("SL and three TPs resting at the venue", within: .seconds(10)) {
            try await w.exits("BTCUSDT", side).count == 4
        }
        let plan = try #require(try await w.f.plan(key))
        let exits = try await w.exits("BTCUSDT", side)
        let stops = exits.filter { $0.orderType == "STOP_MARKET" }
        let tps = exits.filter { $0.orderType == "TAKE_PROFIT_MARKET" }
        #expect(stops.count == 1 && tps.count == 3)
        #expect(tps.map { Self.decimal($0.quantity) }.reduce(0, +) == Self.decimal("0.010"), "the TPs sum to the position")
        #expect(stops.first.map { Self.decimal($0.quantity) } == Self.decimal("0.010"), "the stop covers it all")
        for order in exits {
            #expect(order.triggerPrice.split(separator: ".").last?.count == 1, "on BTCUSDT's 0.1 tick: \(order.triggerPrice)")
            #expect(order.workingType == "MARK_PRICE")
            #expect(order.reduceOnly == !hedge, "hedge: positionSide and no reduceOnly; one-way: reduceOnly")
            #expect(order.side == side.exitOrderSide.rawValue)
        }
        #expect(Set(exits.map(\.clientAlgoId)) == Set(plan.legs.map(\.clientOrderId)), "under the plan's client ids")

        // TP1: filled at the venue, the plan takes it in, the stop goes to breakeven, placed
        // before the old one is cancelled.
        let legs = plan.legs.filter { $0.kind == .takeProfit }.sorted { $0.index < $1.index }
        let oldStop = try #require(stops.first)
        try await w.cross("BTCUSDT", legs[0].triggerPrice, side)
        try await w.f.eventually("TP1 filled in the plan and the stop moved to breakeven", within: .seconds(10)) {
            guard let p = try await w.f.plan(key), p.legs[legs[0].index].status == .filled else { return false }
            let open = try await w.exits("BTCUSDT", side)
            let stop = open.first { $0.orderType == "STOP_MARKET" }
            return stop != nil && stop?.clientAlgoId != oldStop.clientAlgoId && open.count == 3
        }
        let afterTP1 = try await w.sim.control.state()
        let old = try #require(afterTP1.algo_orders.first { $0.clientAlgoId == oldStop.clientAlgoId })
        let breakeven = try #require(afterTP1.open_algo_orders.first { $0.orderType == "STOP_MARKET" && $0.clientAlgoId != oldStop.clientAlgoId })
        #expect(old.algoStatus == "CANCELED")
        #expect(breakeven.createTime <= old.updateTime, "the new stop rested before the old one was cancelled")
        let entry = plan.entryPrice
        let bePrice = Self.decimal(breakeven.triggerPrice).doubleValue
        #expect(side == .long ? bePrice >= entry : bePrice <= entry, "breakeven plus fees: \(bePrice) vs entry \(entry)")
        #expect(Self.decimal(breakeven.quantity) == Self.decimal("0.007"), "the stop covers what remains")

        // TP2: the stop ratchets to TP1's level.
        try await w.cross("BTCUSDT", legs[1].triggerPrice, side)
        try await w.f.eventually("TP2 filled and the stop at TP1's price", within: .seconds(10)) {
            guard let p = try await w.f.plan(key), p.legs[legs[1].index].status == .filled else { return false }
            guard let stop = try await w.exits("BTCUSDT", side).first(where: { $0.orderType == "STOP_MARKET" }) else { return false }
            return abs(Self.decimal(stop.triggerPrice).doubleValue - legs[0].triggerPrice) <= 0.1
                && Self.decimal(stop.quantity) == Self.decimal("0.004")
        }
        // TP3 closes the position; nothing of the plan is left at the venue.
        try await w.cross("BTCUSDT", legs[2].triggerPrice, side)
        try await w.f.eventually("the plan closed, the position flat, no order left", within: .seconds(10)) {
            let flat = try await w.amount("BTCUSDT", side) == 0
            let open = try await w.exits("BTCUSDT", side)
            let closed = try await w.f.plan(key) == nil
            return closed && flat && open.isEmpty
        }
        let state = try await w.sim.control.state()
        #expect(state.acceptances.values.allSatisfy { $0 == 1 }, "nothing sent twice: \(state.acceptances)")
        let mirrored = try await w.f.conn.send("HLEN", w.f.namespace.positions).int
        #expect(mirrored == 0, "the mirror of a flat venue is empty")
        #expect(!exec.output.contains("\"level\":\"error\"") || !exec.output.contains("crash"))
        await w.stop()
    }

    @Test func badBinanceSettingsExit78WithOneLineAndNoSecret() async throws {
        let binary = try #require(ExitBrainBinary.path)
        let base = ["PATH": "/usr/bin:/bin", "REDIS_URL": "redis://127.0.0.1:1/0", "EXCHANGE": "binance"]
        let keyed = base.merging(["BINANCE_API_KEY": "k-4f1e9a7c55", "BINANCE_API_SECRET": "s-0b7d3e99a1c4"]) { $1 }
        let cases: [(variable: String, env: [String: String])] = [
            ("BINANCE_API_KEY", base),
            ("BINANCE_API_SECRET", base.merging(["BINANCE_API_KEY": "k-4f1e9a7c55"]) { $1 }),
            ("BINANCE_API_SECRET_FILE", base.merging(["BINANCE_API_KEY": "k-4f1e9a7c55", "BINANCE_API_SECRET_FILE": "/nonexistent/secret"]) { $1 }),
            ("BINANCE_RECV_WINDOW_MS", keyed.merging(["BINANCE_RECV_WINDOW_MS": "0"]) { $1 }),
            ("EXIT_WORKING_TYPE", keyed.merging(["EXIT_WORKING_TYPE": "LAST_PRICE"]) { $1 }),
            ("BINANCE_REST_URL", keyed.merging(["BINANCE_REST_URL": "ftp://fapi.example"]) { $1 }),
            ("BINANCE_WS_URL", keyed.merging(["BINANCE_WS_URL": "http://fstream.example"]) { $1 }),
            ("BINANCE_USER_STREAM_FORM", keyed.merging(["BINANCE_USER_STREAM_FORM": "both"]) { $1 }),
            ("BINANCE_TESTNET", keyed.merging(["BINANCE_TESTNET": "sometimes"]) { $1 }),
        ]
        for bad in cases {
            let run = try await TestProcess.run(binary, ["execution"], environment: bad.env, timeout: .seconds(30))
            let lines = run.output.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            #expect(run.status == 78, "\(bad.variable): exit \(run.status)\n\(run.output)")
            #expect(lines.count == 1 && run.output.contains(bad.variable), "\(bad.variable): \(run.output)")
            #expect(!run.output.contains("s-0b7d3e99a1c4") && !run.output.contains("k-4f1e9a7c55"), "no credential in \(run.output)")
        }
    }

    @Test func aPositionOpenedByHandGetsAPlanAndARestingStop() async throws {
        let w = try await World("bn-hand", hedge: true)
        let exec = try w.start(.execution)
        let monitor = try w.start(.monitor, ["MONITOR_INTERVAL_S": "2"])
        try await exec.waitHealth(200, within: .seconds(20))
        try await monitor.waitHealth(200, within: .seconds(20))
        let clock = ContinuousClock()
        let opened = clock.now
        try await w.sim.control.openByHand("ETHUSDT", "SHORT", quantity: "0.500")
        try await w.f.eventually("a retroactive plan and its stop resting", within: .seconds(8)) {
            let planned = try await w.f.plan("ETHUSDT:SHORT") != nil
            let open = try await w.exits("ETHUSDT", .short)
            return planned && open.contains { $0.orderType == "STOP_MARKET" }
        }
        let took = clock.now - opened
        print("position opened by hand → stop resting at the venue: \(took) (monitor interval 2 s)")
        #expect(took < .seconds(4.5), "within one monitor interval and the execution service's pick-up")
        let plan = try #require(try await w.f.plan("ETHUSDT:SHORT"))
        #expect(plan.source == .retroactive, "the monitor's plan for a position it did not open")
        let mirrored = try await w.f.conn.send("HGET", w.f.namespace.positions, "ETHUSDT:SHORT").string
        #expect(mirrored?.contains("\"quantity\":0.5") == true, "the venue's position mirrored into {ns}:positions: \(mirrored ?? "nil")")
        await w.stop()
    }

    @Test func killedMidPlanThePositionStaysProtectedAndTheRestartAdoptsItsOrders() async throws {
        let w = try await World("bn-kill", hedge: false)
        // Credentials from files, as compose secrets give them.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bn-secrets-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (w.sim.control.apiKey + "\n").write(toFile: dir + "/key", atomically: true, encoding: .utf8)
        try w.sim.control.apiSecret.write(toFile: dir + "/secret", atomically: true, encoding: .utf8)
        let files = [
            "BINANCE_API_KEY": "", "BINANCE_API_SECRET": "", "BINANCE_API_KEY_FILE": dir + "/key", "BINANCE_API_SECRET_FILE": dir + "/secret",
        ]
        let first = try w.start(.execution, files)
        try await first.waitHealth(200, within: .seconds(20))
        try await w.f.publish(.tradeSignal, w.f.signalJSON("BTCUSDT", "BUY", quantity: 0.01, price: 50_000))
        try await w.f.eventually("four exits resting", within: .seconds(10)) { try await w.exits("BTCUSDT", .long).count == 4 }
        let plan = try #require(try await w.f.plan("BTCUSDT:LONG"))
        await first.kill9()
        #expect(try await w.exits("BTCUSDT", .long).count == 4, "the venue still holds the stop and the TPs")
        // While the service is down, TP1 fills at the venue.
        let tp1 = try #require(plan.legs.first { $0.kind == .takeProfit })
        try await w.cross("BTCUSDT", tp1.triggerPrice, .long)
        #expect(try await w.amount("BTCUSDT", .long) == Self.decimal("0.007"))
        let second = try w.start(.execution, files)
        try await second.waitHealth(200, within: .seconds(20))
        try await w.f.eventually("the restart takes TP1's fill in and moves the stop", within: .seconds(10)) {
            guard let p = try await w.f.plan("BTCUSDT:LONG"), p.legs[tp1.index].status == .filled else { return false }
            let stops = try await w.exits("BTCUSDT", .long).filter { $0.orderType == "STOP_MARKET" }
            return stops.count == 1 && stops[0].clientAlgoId != plan.stopLossLeg?.clientOrderId
        }
        let state = try await w.sim.control.state()
        #expect(state.acceptances.values.allSatisfy { $0 == 1 }, "nothing sent twice: \(state.acceptances)")
        #expect(try await w.exits("BTCUSDT", .long).count == 3, "the new stop and two TPs, nothing else")
        #expect(second.output.contains("reconciled with the venue"))
        await w.stop()
    }

    @Test func aTPFilledWhileTheUserStreamIsDownIsInThePlanAfterTheReconnect() async throws {
        let w = try await World("bn-gap", hedge: true)
        let exec = try w.start(.execution)
        try await exec.waitHealth(200, within: .seconds(20))
        try await w.f.publish(.tradeSignal, w.f.signalJSON("BTCUSDT", "SELL", quantity: 0.01, price: 50_000))
        try await w.f.eventually("four exits resting", within: .seconds(10)) { try await w.exits("BTCUSDT", .short).count == 4 }
        let plan = try #require(try await w.f.plan("BTCUSDT:SHORT"))
        let tp1 = try #require(plan.legs.first { $0.kind == .takeProfit })
        try await w.sim.control.faults(#"{"drop_user_stream":true}"#)
        try await w.cross("BTCUSDT", tp1.triggerPrice, .short)
        try await w.f.eventually("TP1's fill in the plan after the reconnect", within: .seconds(10)) {
            try await w.f.plan("BTCUSDT:SHORT")?.legs[tp1.index].status == .filled
        }
        #expect(try await w.sim.control.state().events_lost > 0, "the fill's events were lost with the stream")
        #expect(exec.output.contains("venue event stream had a gap; reconciling"))
        await w.stop()
    }

    @Test func markPricesDriveOnTriggerExitsAndAreWrittenToPrices() async throws {
        let w = try await World("bn-ontrig", hedge: true)
        let exec = try w.start(.execution, ["EXIT_ORDERS": "ON_TRIGGER"])
        try await exec.waitHealth(200, within: .seconds(20))
        try await w.f.publish(.tradeSignal, w.f.signalJSON("BTCUSDT", "BUY", quantity: 0.01, price: 50_000))
        try await w.f.eventually("the plan", within: .seconds(10)) { try await w.f.plan("BTCUSDT:LONG") != nil }
        #expect(try await w.exits("BTCUSDT", .long).isEmpty, "ON_TRIGGER: nothing rests at the venue")
        let plan = try #require(try await w.f.plan("BTCUSDT:LONG"))
        let tp1 = try #require(plan.legs.first { $0.kind == .takeProfit })
        // No bus tick at all: the venue's mark price alone crosses TP1.
        try await w.cross("BTCUSDT", tp1.triggerPrice, .long)
        try await w.f.eventually("TP1 sent at market on the mark price, the position smaller", within: .seconds(10)) {
            let filled = try await w.f.plan("BTCUSDT:LONG")?.legs[tp1.index].status == .filled
            let amount = try await w.amount("BTCUSDT", .long)
            return filled && amount == Self.decimal("0.007")
        }
        let mark = try await w.sim.control.state().prices["BTCUSDT"].flatMap(Double.init) ?? 0
        try await w.f.eventually("the mark price in {ns}:prices", within: .seconds(5)) {
            let stored = try await w.f.conn.send("HGET", w.f.namespace.prices, "BTCUSDT").string.flatMap(Double.init) ?? 0
            return abs(stored - mark) < 0.01
        }
        await w.stop()
    }

    @Test func aStopStuckAtTheVenueIsAnExitAtMarketAfter3Seconds() async throws {
        let w = try await World("bn-stuck", hedge: false)
        let exec = try w.start(.execution)
        try await exec.waitHealth(200, within: .seconds(20))
        try await w.sim.control.faults(#"{"stuck_stops":true}"#)
        try await w.f.publish(.tradeSignal, w.f.signalJSON("BTCUSDT", "SELL", quantity: 0.01, price: 50_000))
        try await w.f.eventually("four exits resting", within: .seconds(10)) { try await w.exits("BTCUSDT", .short).count == 4 }
        let plan = try #require(try await w.f.plan("BTCUSDT:SHORT"))
        let sl = try #require(plan.stopLossLeg)
        let clock = ContinuousClock()
        let crossed = clock.now
        try await w.cross("BTCUSDT", sl.triggerPrice, .short, favour: false)
        try await w.f.eventually("the service exited at market past its stuck stop", within: .seconds(10)) {
            let flat = try await w.amount("BTCUSDT", .short) == 0
            let closed = try await w.f.plan("BTCUSDT:SHORT") == nil
            let open = try await w.exits("BTCUSDT", .short)
            return flat && closed && open.isEmpty
        }
        let took = clock.now - crossed
        #expect(took >= .seconds(3), "the venue had its 3 s: \(took)")
        await w.stop()
    }

    @Test func aReplanOfAHedgeSymbolStaysUnderTheVenuesCapOfConditionalOrders() async throws {
        let w = try await World("bn-cap", hedge: true)
        let exec = try w.start(.execution)
        try await exec.waitHealth(200, within: .seconds(20))
        try await w.f.publish(.tradeSignal, w.f.signalJSON("BTCUSDT", "BUY", quantity: 0.01, price: 50_000))
        try await w.f.publish(.tradeSignal, w.f.signalJSON("BTCUSDT", "SELL", quantity: 0.01, price: 50_000))
        try await w.f.eventually("both sides planned and resting: 8 of the symbol's 10", within: .seconds(10)) {
            let long = try await w.exits("BTCUSDT", .long).count
            let short = try await w.exits("BTCUSDT", .short).count
            return long == 4 && short == 4
        }
        let before = Set(try await w.exits("BTCUSDT", .long).map(\.clientAlgoId))
        // An add re-plans the long: four new orders for it, which cannot rest beside the old four.
        try await w.f.publish(.tradeSignal, w.f.signalJSON("BTCUSDT", "BUY", quantity: 0.01, price: 50_000))
        try await w.f.eventually("the long's four new orders resting, the short's untouched", within: .seconds(10)) {
            let long = try await w.exits("BTCUSDT", .long)
            let short = try await w.exits("BTCUSDT", .short).count
            return long.count == 4 && before.isDisjoint(with: long.map(\.clientAlgoId)) && short == 4
                && long.filter { $0.orderType == "TAKE_PROFIT_MARKET" }.map { Self.decimal($0.quantity) }.reduce(0, +) == Self.decimal("0.020")
        }
        #expect(!exec.output.contains("-4045"), "no order was refused for the cap")
        await w.stop()
    }

    @Test func aStopRefusedAsAlreadyCrossedIsAnExitAtMarket() async throws {
        let w = try await World("bn-2021", hedge: true)
        let exec = try w.start(.execution)
        try await exec.waitHealth(200, within: .seconds(20))
        try await w.sim.control.faults(
            #"{"fail_next":[{"code":-2021,"path":"/fapi/v1/algoOrder","message":"Order would immediately trigger."}]}"#)
        try await w.f.publish(.tradeSignal, w.f.signalJSON("BTCUSDT", "BUY", quantity: 0.01, price: 50_000))
        try await w.f.eventually("the position exited at market and the plan closed", within: .seconds(10)) {
            let flat = try await w.amount("BTCUSDT", .long) == 0
            let closed = try await w.f.plan("BTCUSDT:LONG") == nil
            let open = try await w.exits("BTCUSDT", .long)
            return flat && closed && open.isEmpty
        }
        await w.stop()
    }

    @Test func faultsAtTheVenueCrashNothingAndLoseNothing() async throws {
        let w = try await World("bn-faults", hedge: true)
        let exec = try w.start(.execution, ["BINANCE_REQUEST_TIMEOUT_MS": "800"])
        try await exec.waitHealth(200, within: .seconds(20))
        let events = await ChannelRecorder(w.f.redis.configuration(), channels: [w.f.namespace.channel(.alert)])
        try await w.f.publish(.tradeSignal, w.f.signalJSON("BTCUSDT", "BUY", quantity: 0.01, price: 50_000))
        try await w.f.eventually("four exits resting", within: .seconds(10)) { try await w.exits("BTCUSDT", .long).count == 4 }
        let plan = try #require(try await w.f.plan("BTCUSDT:LONG"))
        let tps = plan.legs.filter { $0.kind == .takeProfit }.sorted { $0.index < $1.index }

        // A 3 s skew, a 429 burst, and the breakeven stop accepted but never answered, at once.
        try await w.sim.control.faults(
            #"{"clock_offset_ms":-3000,"silent_placements":1,"fail_next":[{"code":-1003,"status":429,"path":"/fapi/v2/positionRisk"},{"code":-1003,"status":429,"path":"/fapi/v2/positionRisk"}]}"#
        )
        try await w.cross("BTCUSDT", tps[0].triggerPrice, .long)
        try await w.f.eventually("TP1 in the plan and exactly one breakeven stop resting", within: .seconds(20)) {
            guard try await w.f.plan("BTCUSDT:LONG")?.legs[tps[0].index].status == .filled else { return false }
            let stops = try await w.exits("BTCUSDT", .long).filter { $0.orderType == "STOP_MARKET" }
            return stops.count == 1 && stops[0].clientAlgoId != plan.stopLossLeg?.clientOrderId
        }
        #expect(try await w.sim.control.state().acceptances.values.allSatisfy { $0 == 1 }, "the unanswered stop was queried, not sent again")

        // listenKey expiry: a new key, a reconnect, the stream trusted after a reconciliation.
        try await w.sim.control.faults(#"{"expire_listen_key":true}"#)
        try await w.f.eventually("the user stream back on a new key", within: .seconds(10)) {
            let health = try await exec.get("/health").body
            let live = try await w.sim.control.state().listen_key_live
            return health.contains(#""user_stream":"CONNECTED""#) && live
        }

        // A 418 ban: the venue DOWN (the service itself DEGRADED: Redis and the bus are fine),
        // a critical alert; after the ban, OK again.
        try await w.sim.control.faults(#"{"clock_offset_ms":0,"ban_seconds":3,"ban_now":true}"#)
        try await w.cross("BTCUSDT", tps[1].triggerPrice, .long)  // TP2 fills at the venue meanwhile
        var lastHealth = ""
        try await w.f.eventually("health DOWN for the venue and a critical alert", within: .seconds(10)) {
            let health = try await exec.get("/health")
            lastHealth = "\(health.status) \(health.body) alerts: \(events.texts)"
            return health.body.contains(#""exchange":{"status":"DOWN""#) && !health.body.contains(#""status":"OK","version""#)
                && events.texts.contains { $0.contains("VENUE_BANNED") && $0.contains("critical") }
        }
        #expect(lastHealth.contains("banned by the venue"), "the note says why: \(lastHealth)")
        try await w.f.eventually("the ban over: healthy, TP2 in the plan", within: .seconds(15)) {
            let ok = try await exec.get("/health").status == 200
            let filled = try await w.f.plan("BTCUSDT:LONG")?.legs[tps[1].index].status == .filled
            return ok && filled
        }
        #expect(exec.isRunning, "nothing crashed")
        // No secret and no signature anywhere an operator looks.
        let secret = w.sim.control.apiSecret
        let health = try await exec.get("/health").body
        let metrics = try await exec.get("/metrics").body
        for (what, text) in [("logs", exec.output), ("health", health), ("metrics", metrics)] {
            #expect(!text.contains(secret), "the API secret in \(what)")
            #expect(!text.contains(w.sim.control.apiKey), "the API key in \(what)")
            #expect(!text.contains("signature="), "a signature in \(what)")
        }
        #expect(metrics.contains("exitbrain_venue_requests_total{") && metrics.contains("exitbrain_venue_request_seconds_bucket"))
        #expect(try await w.sim.control.state().acceptances.values.allSatisfy { $0 == 1 })
        events.close()
        await w.stop()
    }
}
