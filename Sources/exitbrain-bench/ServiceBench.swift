import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient
import Support

#if canImport(Glibc)
import Glibc
#endif

/// The execution service as a process (`exitbrain execution`, built next to this binary):
/// signal → plan latency seen from outside, tick throughput, memory with 10 000 plans; and
/// the tick → decision path in process.
enum ServiceBench {
    static func run(config: RedisConfiguration, signals signalCount: Int, tickSeconds: Int, triggerSeconds: Int) async throws {
        let ns = try Namespace("bench-svc-\(getpid())")
        var env = ProcessInfo.processInfo.environment
        env["REDIS_URL"] = "redis://\(config.host):\(config.port)/\(config.database)"
        env["REDIS_NAMESPACE"] = ns.prefix
        env["EXIT_EXECUTOR_MODE"] = "LIVE"
        // The stops rest at the paper venue (the burst's protection figure and the storm want them there).
        env["EXIT_ORDERS"] = "VENUE"
        env["LOG_LEVEL"] = "error"
        guard ExitBrainBinary.path != nil else {
            print("service: the exitbrain binary is not built next to this one; build it first (swift build -c release)")
            return
        }
        // Stopped at the end; on an error the process group is killed when `service` goes.
        let service = try ServiceUnderTest(.execution, environment: env)
        let port = service.port
        _ = try await LoopbackHTTP.poll(port: port, "/health/live", until: { $0.status == 200 }, within: .seconds(20))
        // Ready once it holds its bucket leases.
        _ = try await LoopbackHTTP.poll(port: port, "/health", until: { $0.body.contains(#""leases":{"status":"OK""#) }, within: .seconds(20))
        let clock = ContinuousClock()
        let ticksHandled = "\(MetricName.eventsHandled.rawValue){type=\"market.tick\"}"

        let probe = await SignalProbe(config: config, namespace: ns)
        let conn = probe.conn
        let bus = probe.bus
        let created = probe.created

        // 1. Signal → plan stored and exit_plan.created seen by this outside subscriber.
        let ping = try await probe.pings()
        let latency: [Double]
        do { latency = try await probe.latency(signalCount, prefix: "SIG") } catch {
            print("the service did not plan a signal; its output:\n\(service.output.suffix(4000))")
            throw error
        }
        let stored = try await conn.send("HLEN", ns.plans).int ?? 0
        let pingP99 = BenchSupport.percentile(ping, 0.99)
        print("execution service (the exitbrain binary, paper, LIVE) on port \(port)")
        print(String(format: "  PING                        p50 %7.1f µs  p99 %7.1f µs", BenchSupport.percentile(ping, 0.5), pingP99))
        print(
            String(
                format:
                    "  signal → plan + event seen  p50 %7.1f µs  p99 %7.1f µs  over %d signals (%d plans stored); p50 %.1f× PING p50, p99 %.1f× PING p99; goal p99 ≤ 3×PING p99 + 0.3 ms = %.0f µs: %@",
                BenchSupport.percentile(latency, 0.5), BenchSupport.percentile(latency, 0.99), signalCount, stored,
                BenchSupport.percentile(latency, 0.5) / BenchSupport.percentile(ping, 0.5), BenchSupport.percentile(latency, 0.99) / pingP99,
                3 * pingP99 + 300,
                BenchSupport.percentile(latency, 0.99) <= 3 * pingP99 + 300 ? "met" : "NOT met"))

        // 2. Ticks: 100 symbols with plans, 20 000 ticks/s for `tickSeconds`.
        for i in 0..<100 {
            try await bus.publish(.tradeSignal, TradeSignal(symbol: "TICK\(i)USDT", side: .buy, quantity: 0.01, leverage: 10, price: 1000))
        }
        for i in 0..<100 where await created.wait(for: "TICK\(i)USDT", timeout: .seconds(5)) == nil {
            throw BenchError("no plan for TICK\(i)USDT")
        }
        let handledBefore = (try? await service.metric(ticksHandled)).flatMap { $0 } ?? 0
        let rate = 20_000
        let batch = 100
        var published = 0
        var samples: [(second: Int, backlog: Int)] = []
        let tickStart = clock.now
        var next = tickStart
        var nextSample = tickStart + .seconds(1)
        var price = [Double](repeating: 1000, count: 100)
        var rng = UInt64(0x5EED)
        while clock.now - tickStart < .seconds(tickSeconds) {
            var commands: [RedisCommand] = []
            commands.reserveCapacity(batch)
            for _ in 0..<batch {
                let s = published % 100
                rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                price[s] = Rounding.price(price[s] * (1 + (Double(rng >> 11) / Double(1 << 53) - 0.5) * 0.0004))
                commands.append(
                    RedisCommand([
                        "PUBLISH", ns.channel(.marketTick), try bus.envelope(.marketTick, MarketTick(symbol: "TICK\(s)USDT", price: price[s])),
                    ]))
                published += 1
            }
            _ = try await conn.pipeline(commands)
            if clock.now >= nextSample {
                nextSample = nextSample + .seconds(1)
                let handled = Int(((try? await service.metric(ticksHandled)).flatMap { $0 } ?? 0) - handledBefore)
                samples.append((samples.count + 1, published - handled))
            }
            next = next + .microseconds(1_000_000 * batch / rate)
            let wait = next - clock.now
            if wait > .zero { try await Task.sleep(for: wait) }
        }
        let sent = clock.now - tickStart
        var handled = 0
        let drainStart = clock.now
        while clock.now - drainStart < .seconds(10) {
            handled = Int(((try? await service.metric(ticksHandled)).flatMap { $0 } ?? 0) - handledBefore)
            if handled >= published { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let drain = clock.now - drainStart
        print(
            String(
                format:
                    "  ticks: %d published over 100 symbols in %.1f s (%.0f/s); handled %d (%@); backlog each second: %@; drained %.0f ms after the last",
                published, sent.secondsValue, Double(published) / sent.secondsValue, handled,
                handled == published ? "none lost" : "\(published - handled) LOST",
                samples.map { String($0.backlog) }.joined(separator: " "), drain.secondsValue * 1e3))

        // 3. Memory with 10 000 active plans.
        let have = Int(try await conn.send("HLEN", ns.plans).int ?? 0)
        var more: [RedisCommand] = []
        for i in have..<10_000 {
            more.append(
                RedisCommand([
                    "PUBLISH", ns.channel(.tradeSignal),
                    try bus.envelope(.tradeSignal, TradeSignal(symbol: "MEM\(i)USDT", side: .buy, quantity: 0.01, leverage: 10, price: 100)),
                ]))
        }
        for chunk in stride(from: 0, to: more.count, by: 500) {
            _ = try await conn.pipeline(Array(more[chunk..<min(chunk + 500, more.count)]))
            try await Task.sleep(for: .milliseconds(20))
        }
        let fillStart = clock.now
        var count = 0
        while clock.now - fillStart < .seconds(60) {
            count = Int(try await conn.send("HLEN", ns.plans).int ?? 0)
            if count >= 10_000 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        // Their orders resting (an entry and four exits each), so that the figure is the steady
        // book's, not that of the work under way.
        let resting = try await probe.growth(of: ns.paperOrders, from: 0, to: 5 * count, since: clock.now, limit: .seconds(60))
        try await Task.sleep(for: .seconds(3))  // a resync and a housekeeping round with the full book
        let rss = service.rssMB
        print(
            String(
                format: "  memory: %d active plans, %d orders at the paper venue, RSS %.1f MB (target ≤ 64 MB)", count, resting.count, rss))

        // 3b. Tick → exit_leg.triggered seen by this outside client, the 10 000 plans held, for
        // `triggerSeconds` (the periodic full reads and order checks fall in it): each tick takes
        // one MEM position (entry 100) past its TP1 (101.5), which rests at the paper venue.
        let triggerPing = try await probe.pings()
        var triggerLatency: [Double] = []
        var missed = 0
        var nextSymbol = have
        let triggerStart = clock.now
        while clock.now - triggerStart < .seconds(triggerSeconds), nextSymbol < 10_000 {
            let symbol = "MEM\(nextSymbol)USDT"
            nextSymbol += 1
            let t = clock.now
            try await bus.publish(.marketTick, MarketTick(symbol: symbol, price: 101.6))
            guard let at = await probe.triggered.wait(for: symbol, timeout: .seconds(5)) else {
                missed += 1
                continue
            }
            triggerLatency.append((at - t).secondsValue * 1e6)
            try await Task.sleep(for: .milliseconds(5))
        }
        let triggerGoal = 3 * BenchSupport.percentile(triggerPing, 0.99) + 300
        let triggerP99 = BenchSupport.percentile(triggerLatency, 0.99)
        print(
            String(
                format:
                    "  tick → exit_leg.triggered seen  p50 %7.1f µs  p99 %7.1f µs  max %7.1f µs  over %d ticks in %.0f s (%d unanswered), 10000 plans held; PING p50 %.1f µs p99 %.1f µs; goal p99 ≤ 3×PING p99 + 0.3 ms = %.0f µs: %@",
                BenchSupport.percentile(triggerLatency, 0.5), triggerP99, triggerLatency.max() ?? 0, triggerLatency.count,
                (clock.now - triggerStart).secondsValue, missed, BenchSupport.percentile(triggerPing, 0.5),
                BenchSupport.percentile(triggerPing, 0.99), triggerGoal, triggerP99 <= triggerGoal && missed == 0 ? "met" : "NOT met"))

        // 4. A burst: 20 000 signals published at once, with the 10 000 plans held.
        // The service rests four exits a position at the paper venue, beside the entry.
        let burst = try await probe.burst(20_000, prefix: "BURST", ordersEach: 5)
        let burstRate = Double(burst.planned) / max(burst.seconds, 1e-9)
        print(
            String(
                format:
                    "  burst: 20000 signals published at once: %d planned in %.2f s, %.0f plans/s (%@; goal ≥ 10000/s: %@); every position's SL and TPs resting at the paper venue %@",
                burst.planned, burst.seconds, burstRate, burst.planned == 20_000 ? "none lost" : "\(20_000 - burst.planned) LOST",
                burstRate >= 10_000 ? "met" : "NOT met",
                burst.protectedSeconds.map { String(format: "%.2f s after the first", $0) } ?? "NOT within the wait"))

        // 5. An exit storm (after the burst, which wants the 10 000 plans held): every MEM
        // position's price falls past its stop (resting at the paper venue) within one second.
        // The time from the last tick until all their plans are closed, beside Redis alone
        // closing as many plans with the same script, pipelined from one client
        // (PlanStore.closeAll, 1000 a round trip, on a namespace of its own).
        let stormCount = 10_000 - have
        let heldBefore = Int(try await conn.send("HLEN", ns.plans).int ?? 0)
        let stormTicks = try (have..<10_000).map { i in
            RedisCommand(["PUBLISH", ns.channel(.marketTick), try bus.envelope(.marketTick, MarketTick(symbol: "MEM\(i)USDT", price: 95))])
        }
        let stormChunk = max(1, stormTicks.count / 10)
        for start in stride(from: 0, to: stormTicks.count, by: stormChunk) {
            _ = try await conn.pipeline(Array(stormTicks[start..<min(start + stormChunk, stormTicks.count)]))
            try await Task.sleep(for: .milliseconds(90))
        }
        let lastTick = clock.now
        var held = heldBefore
        while clock.now - lastTick < .seconds(120) {
            held = Int(try await conn.send("HLEN", ns.plans).int ?? 0)
            if held <= heldBefore - stormCount { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let stormSeconds = (clock.now - lastTick).secondsValue
        let redisAlone = try await Self.closeAlone(count: stormCount, conn: conn)
        print(
            String(
                format:
                    "  exit storm: %d stops crossed within 1 s: %d of their plans closed %.2f s after the last tick; Redis alone closing %d plans with the same script, pipelined from one client: %.2f s; %.1f× (goal ≤ 2×: %@)",
                stormCount, heldBefore - held, stormSeconds, stormCount, redisAlone, stormSeconds / max(redisAlone, 1e-9),
                stormSeconds <= 2 * redisAlone && held <= heldBefore - stormCount ? "met" : "NOT met"))

        await service.stop()
        try await BenchSupport.deleteNamespace(ns, on: conn)
        await probe.close()

        // 6. The Python reference (redis-py, the seed's path) on the same Redis, measured the same way.
        guard let reference = try await ReferenceExecutor.start(config: config) else { return }
        let referenceProbe = await SignalProbe(config: config, namespace: reference.namespace)
        let refPing = try await referenceProbe.pings()
        let refLatency = try await referenceProbe.latency(signalCount, prefix: "SIG")
        let refBurst = try await referenceProbe.burst(20_000, prefix: "BURST")
        let refRate = Double(refBurst.planned) / max(refBurst.seconds, 1e-9)
        print("python reference (scripts/reference/executor.py: redis-py \(reference.version), signal → plan → HSETNX + PUBLISH, nothing else)")
        print(
            String(
                format: "  PING                        p50 %7.1f µs  p99 %7.1f µs", BenchSupport.percentile(refPing, 0.5),
                BenchSupport.percentile(refPing, 0.99)))
        print(
            String(
                format: "  signal → plan + event seen  p50 %7.1f µs  p99 %7.1f µs  over %d signals", BenchSupport.percentile(refLatency, 0.5),
                BenchSupport.percentile(refLatency, 0.99), signalCount))
        print(String(format: "  burst: %d of 20000 planned in %.2f s, %.0f plans/s", refBurst.planned, refBurst.seconds, refRate))
        print(
            String(
                format: "  ExitBrain / reference: signal → plan p50 %.2f×, p99 %.2f× (lower is better); burst throughput %.2f× (higher is better)",
                BenchSupport.percentile(latency, 0.5) / BenchSupport.percentile(refLatency, 0.5),
                BenchSupport.percentile(latency, 0.99) / BenchSupport.percentile(refLatency, 0.99), burstRate / refRate)
        )
        await reference.stop()
        try await BenchSupport.deleteNamespace(reference.namespace, on: referenceProbe.conn)
        await referenceProbe.close()
    }

    /// Redis alone: `count` plans created on a namespace of their own, then closed with the
    /// plan-close script, 1000 calls a pipeline; the seconds the closes took.
    static func closeAlone(count: Int, conn: RedisConnection) async throws -> Double {
        let ns = try Namespace("bench-storm-\(getpid())")
        let store = PlanStore(redis: conn, namespace: ns, bus: EventBus(redis: conn, namespace: ns, source: "bench"))
        let planner = Planner()
        let plans = try (0..<count).map { i in
            try planner.makePlan(
                PlannerInput(
                    symbol: "STORM\(i)USDT", side: .long, entryPrice: 100, quantity: 0.01, leverage: 10, markPrice: 100, context: PlanContext(),
                    profile: .default, source: .execution, planId: RandomUUID.string(), now: Date()))
        }
        for start in stride(from: 0, to: plans.count, by: 1000) {
            _ = try await store.getOrCreateMany(Array(plans[start..<min(start + 1000, plans.count)]), retroactive: false)
        }
        let executor = PlanExecutor()
        let closings = plans.map { plan in
            PlanStore.Closing(
                plan: executor.close(plan: plan, reason: .stopLoss, now: Date()), expectedVersion: plan.version, realizedPnl: 0, position: .keep)
        }
        let clock = ContinuousClock()
        let start = clock.now
        for first in stride(from: 0, to: closings.count, by: 1000) {
            _ = try await store.closeAll(Array(closings[first..<min(first + 1000, closings.count)]))
        }
        let seconds = (clock.now - start).secondsValue
        try await BenchSupport.deleteNamespace(ns, on: conn)
        return seconds
    }

    /// A `market.tick` message read from its bytes, the fast way (``InboundEvent/decode(type:payload:)``)
    /// beside the Codable way it is held to, in turns.
    static func tickDecoding() throws {
        let messages = try (0..<1_000).map { i in
            try EventEnvelope.make(
                type: .marketTick, source: "bench", now: Date(), value: MarketTick(symbol: "S\(i % 100)USDT", price: 1000 + Double(i) * 0.37))
        }
        let clock = ContinuousClock()
        var fast = Double.infinity
        var codable = Double.infinity
        var taken = 0
        for _ in 0..<5 {
            let t0 = clock.now
            for _ in 0..<20 { for m in messages { if case .success = InboundEvent.decode(type: .marketTick, payload: m) { taken += 1 } } }
            let t1 = clock.now
            for _ in 0..<20 { for m in messages { if case .success = InboundEvent.decodeWithCodable(type: .marketTick, payload: m) { taken += 1 } } }
            let t2 = clock.now
            fast = min(fast, (t1 - t0).secondsValue * 1e6 / 20_000)
            codable = min(codable, (t2 - t1).secondsValue * 1e6 / 20_000)
        }
        guard taken == 200_000 else { throw BenchError("\(200_000 - taken) ticks not taken") }
        print(
            String(
                format: "market.tick read from its bytes (best of 5 × 20 000): %.2f µs, the Codable way %.2f µs: %.1f× faster",
                fast, codable, codable / fast))
    }

    /// Tick → exit decision in process: the engine's path (plan lookup by position, the
    /// executor's state machine) for 10 000 plans over 100 symbols, timed tick by tick.
    static func tickDecision() throws {
        let planner = Planner()
        let executor = PlanExecutor()
        let now = Date()
        var cache: [PositionKey: ExitPlan] = [:]
        for i in 0..<10_000 {
            let key = PositionKey(symbol: "S\(i % 100)USDT", side: i % 2 == 0 ? .long : .short)
            if cache[key] != nil { continue }
            cache[key] = try planner.makePlan(
                PlannerInput(
                    symbol: key.symbol, side: key.side, entryPrice: 1000, quantity: 1, leverage: 10,
                    planId: UUID().uuidString.lowercased(), now: now))
        }
        var price = [Double](repeating: 1000, count: 100)
        var rng = UInt64(42)
        var times: [Double] = []
        times.reserveCapacity(1_000_000)
        var decisions = 0
        let clock = ContinuousClock()
        for n in 0..<1_000_000 {
            let s = n % 100
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            price[s] *= 1 + (Double(rng >> 11) / Double(1 << 53) - 0.5) * 0.002
            let symbol = "S\(s)USDT"
            let t = clock.now
            for side in [PositionSide.long, .short] {
                guard let plan = cache[PositionKey(symbol: symbol, side: side)] else { continue }
                let evaluation = executor.evaluate(plan: plan, price: price[s], now: now, mode: .live)
                decisions += evaluation.decisions.count
                if evaluation.changed { cache[plan.key] = evaluation.plan.isActive ? evaluation.plan : nil }
            }
            times.append((clock.now - t).secondsValue * 1e6)
        }
        print(
            String(
                format:
                    "tick → exit decision in process (plan lookup + state machine, 1 000 000 ticks over 100 symbols, %d decisions): p50 %.2f µs  p99 %.2f µs  max %.1f µs (target p99 ≤ 50 µs)",
                decisions, BenchSupport.percentile(times, 0.5), BenchSupport.percentile(times, 0.99), times.max() ?? 0))
    }

}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ text: String) { description = text }
}
