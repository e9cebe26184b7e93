import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient
import Support
import Testing

/// The claim: a position is never left without a protective plan and no exit is executed
/// twice, whatever fails. Real processes, real Redis (AOF everysec where it is killed).
@Suite("Faults", .serialized, .enabled(if: TestRedis.isCI || TestProcess.find("redis-server") != nil, "needs redis-server"))
struct FaultTests {
    @Test func redisKilledWhileTrafficFlowsThenRestartedOnTheSameData() async throws {
        let f = try await SystemFixture("fault-redis", persistent: true)
        let execution = try f.start(.execution)
        let monitor = try f.start(.monitor)
        try await execution.waitHealth(200, within: .seconds(20))
        try await monitor.waitHealth(200, within: .seconds(20))
        for i in 0..<20 { try await f.publish(.tradeSignal, f.signalJSON("K\(i)USDT", "BUY")) }
        try await f.eventually("20 plans", within: .seconds(10)) { try await f.planCount() == 20 }
        let before = Set(try await f.conn.send("HKEYS", f.namespace.plans).array?.compactMap(\.string) ?? [])
        try await Task.sleep(for: .milliseconds(1500))  // AOF everysec: these are on disk now

        // Signals and ticks keep coming from another connection while Redis is away.
        let traffic = RedisConnection(configuration: f.redis.configuration(commandTimeoutMilliseconds: 300))
        let flow = Task {
            var n = 0
            while !Task.isCancelled {
                n += 1
                _ = try? await traffic.send("PUBLISH", f.namespace.channel(.marketTick), f.tickJSON("K\(n % 20)USDT", 100 + Double(n % 3) * 0.01))
                if n % 10 == 0 { _ = try? await traffic.send("PUBLISH", f.namespace.channel(.tradeSignal), f.signalJSON("FLOW\(n)USDT", "BUY")) }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        defer { flow.cancel() }
        try await Task.sleep(for: .milliseconds(300))

        await f.redis.kill()
        let downForExecution = try await execution.waitHealth(503, word: "DOWN", within: .seconds(10))
        let downForMonitor = try await monitor.waitHealth(503, word: "DOWN", within: .seconds(10))
        #expect(downForExecution < .seconds(3), "execution reported DOWN after \(downForExecution)")
        #expect(downForMonitor < .seconds(3), "monitor reported DOWN after \(downForMonitor)")

        try await f.redis.start()
        let upForExecution = try await execution.waitHealth(200, within: .seconds(15))
        let upForMonitor = try await monitor.waitHealth(200, within: .seconds(15))
        #expect(upForExecution < .seconds(5), "execution OK again after \(upForExecution)")
        #expect(upForMonitor < .seconds(5), "monitor OK again after \(upForMonitor)")
        #expect(execution.isRunning && monitor.isRunning)
        flow.cancel()

        // Nothing stored before the kill is lost, and the bus works again (resubscribed).
        let after = Set(try await f.conn.send("HKEYS", f.namespace.plans).array?.compactMap(\.string) ?? [])
        #expect(before.isSubset(of: after), "lost: \(before.subtracting(after).sorted())")
        try await f.publish(.tradeSignal, f.signalJSON("AFTERUSDT", "BUY"))
        try await f.eventually("a plan for a signal sent after the restart", within: .seconds(10)) { try await f.plan("AFTERUSDT:LONG") != nil }
        await traffic.close()
        await f.stopAll()
    }

    @Test func executionKilledBetweenTP1AndTP2FillsEachOrderOnceAndMissesNone() async throws {
        let f = try await SystemFixture("fault-exec")
        let fills = await ChannelRecorder(f.redis.configuration(), channels: [f.namespace.channel(.orderFilled)])
        defer { fills.close() }
        let execution = try f.start(.execution)
        try await execution.waitHealth(200, within: .seconds(20))
        try await f.publish(.tradeSignal, f.signalJSON("BTCUSDT", "BUY", quantity: 0.01, price: 50_000))
        try await f.eventually("the BTCUSDT plan", within: .seconds(10)) { try await f.plan("BTCUSDT:LONG") != nil }
        try await f.publish(.marketTick, f.tickJSON("BTCUSDT", 50_760))
        try await f.eventually("TP1 filled", within: .seconds(10)) { try await f.plan("BTCUSDT:LONG")?.legs[0].status == .filled }

        await execution.kill9()
        try await execution.restart()
        // OK once it holds the buckets its killed predecessor held (their leases expire first).
        try await execution.waitLeases(within: .seconds(20))
        // The restarted service has the plan (it loads every plan on start) before the price moves.
        try await f.eventually("the plan loaded", within: .seconds(10)) {
            try await execution.get("/plans/BTCUSDT").body.contains("\"plan_id\"")
        }
        try await f.publish(.marketTick, f.tickJSON("BTCUSDT", 51_260))
        try await f.eventually("TP2 filled after the restart", within: .seconds(10)) { try await f.plan("BTCUSDT:LONG")?.legs[1].status == .filled }
        try await Task.sleep(for: .milliseconds(500))

        let exitFills = fills.texts.filter { $0.contains("\"purpose\":\"") && !$0.contains("\"purpose\":\"ENTRY\"") }
        let ids = exitFills.compactMap { jsonString("client_order_id", in: $0) }
        #expect(ids.count == 2, "exit fills: \(ids)")
        #expect(Set(ids).count == ids.count, "a client_order_id filled twice: \(ids)")
        let orders = try await f.conn.send("HKEYS", f.namespace.paperOrders).array?.compactMap(\.string) ?? []
        let plan = try #require(try await f.plan("BTCUSDT:LONG"))
        for leg in plan.legs.prefix(2) { #expect(orders.contains(leg.clientOrderId), "no order for \(leg.clientOrderId)") }
        await f.stopAll()
    }

    @Test func monitorKilledOrphansMadeMeanwhileGetPlansOnItsFirstPass() async throws {
        let f = try await SystemFixture("fault-mon")
        let monitor = try f.start(.monitor)
        try await monitor.waitHealth(200, within: .seconds(20))
        await monitor.kill9()
        for i in 0..<5 {
            let side = i % 2 == 0 ? "LONG" : "SHORT"
            try await f.conn.send(
                "HSET", f.namespace.positions, "ORPH\(i)USDT:\(side)",
                #"{"symbol":"ORPH\#(i)USDT","side":"\#(side)","quantity":2,"entry_price":10}"#)
        }
        try await monitor.restart()
        let clock = ContinuousClock()
        let started = clock.now
        try await f.eventually("5 retroactive plans", within: .seconds(15)) {
            var n = 0
            for i in 0..<5 where try await f.plan("ORPH\(i)USDT:\(i % 2 == 0 ? "LONG" : "SHORT")")?.source == .retroactive { n += 1 }
            return n == 5
        }
        // The first pass runs as the service starts; MONITOR_INTERVAL_S is 1 s.
        #expect(clock.now - started < .seconds(8), "plans made \(clock.now - started) after the restart")
        await f.stopAll()
    }

    @Test func twoMonitorsAndOneExecutionOnOneHundredNewPositionsMakeOneHundredPlans() async throws {
        let f = try await SystemFixture("fault-race")
        let created = await ChannelRecorder(f.redis.configuration(), channels: [f.namespace.channel(.planCreated)])
        defer { created.close() }
        let execution = try f.start(.execution)
        let first = try f.start(.monitor, ["MONITOR_INTERVAL_S": "0.1"])
        let second = try f.start(.monitor, ["MONITOR_INTERVAL_S": "0.1"])
        for s in [execution, first, second] { try await s.waitHealth(200, within: .seconds(20)) }
        // The execution service plans half of them from signals while both monitors find the
        // other half written straight into the book, all at once.
        var commands: [RedisCommand] = []
        for i in 0..<100 {
            if i % 2 == 0 {
                commands.append(RedisCommand(["PUBLISH", f.namespace.channel(.tradeSignal), f.signalJSON("R\(i)USDT", "BUY")]))
            } else {
                commands.append(
                    RedisCommand([
                        "HSET", f.namespace.positions, "R\(i)USDT:LONG", #"{"symbol":"R\#(i)USDT","side":"LONG","quantity":1,"entry_price":100}"#,
                    ]))
            }
        }
        _ = try await f.conn.pipeline(commands)
        try await f.eventually("100 plans", within: .seconds(15)) { try await f.planCount() == 100 }
        try await Task.sleep(for: .seconds(1))  // more passes of both monitors
        #expect(try await f.planCount() == 100)
        let keys = created.texts.compactMap { text -> String? in
            guard let symbol = jsonString("symbol", in: text), let side = jsonString("side", in: text) else { return nil }
            return "\(symbol):\(side)"
        }
        #expect(keys.count == 100, "exit_plan.created events: \(keys.count)")
        #expect(Set(keys).count == 100, "a position got two exit_plan.created")
        await f.stopAll()
    }
}
