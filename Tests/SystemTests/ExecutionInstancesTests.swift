import BinanceProtocol
import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient
import Support
import Testing
import Venue

#if canImport(Glibc)
import Glibc
#endif

/// Several execution instances on one book against `exitbrain venue-sim` (docs/contract.md
/// §12): buckets spread evenly; a killed instance's buckets taken within the lease time plus a
/// second, with its positions still managed; a paused instance, woken past its lease time,
/// sends nothing for the buckets it lost, and the venue sees no client order id twice.
@Suite(
    "Several execution instances on one book", .serialized,
    .enabled(if: TestRedis.isCI || TestProcess.find("redis-server") != nil, "needs redis-server")
)
struct ExecutionInstancesTests {
    static let buckets = BucketMap(count: 6)
    static let ttl = 3.0

    /// One symbol per bucket.
    static let symbols: [String] = {
        var out: [Int: String] = [:]
        for i in 0..<1000 where out.count < buckets.count {
            let symbol = "X\(i)USDT"
            if out[buckets.bucket(of: symbol)] == nil { out[buckets.bucket(of: symbol)] = symbol }
        }
        return buckets.all.map { out[$0]! }
    }()

    struct World {
        let f: SystemFixture
        let sim: SimulatorProcess

        func holders() async throws -> [Int: String] {
            let reply = try await f.conn.send(RedisCommand(["MGET"] + ExecutionInstancesTests.buckets.all.map { f.namespace.lease($0) }))
            var out: [Int: String] = [:]
            for (i, r) in (reply.array ?? []).enumerated() { if let s = r.string { out[i] = s } }
            return out
        }

        /// Buckets per instance id.
        func spread() async throws -> [String: Int] {
            var count: [String: Int] = [:]
            for holder in try await holders().values { count[holder, default: 0] += 1 }
            return count
        }

        func instance(_ service: ServiceUnderTest) async throws -> String {
            let body = try await service.get("/health").body
            guard let range = body.range(of: #""instance":""#) else { throw TestProcess.Failure("no instance in \(body)") }
            return String(body[range.upperBound...].prefix(8))
        }

        /// Every symbol's stop resting at the venue, under its plan's current stop leg.
        func everyStopRests() async throws -> Bool {
            let open = try await sim.control.state().open_algo_orders
            for symbol in ExecutionInstancesTests.symbols {
                guard let plan = try await f.plan("\(symbol):LONG"), let sl = plan.stopLossLeg else { return false }
                guard open.contains(where: { $0.clientAlgoId == sl.clientOrderId && $0.orderType == "STOP_MARKET" }) else { return false }
            }
            return true
        }

        /// Crosses the first take-profit of the symbol's plan; true when the plan took the fill
        /// and its stop moved, resting at the venue.
        func tp1Managed(_ symbol: String) async throws -> Bool {
            let plan = try #require(try await f.plan("\(symbol):LONG"))
            let tp1 = try #require(plan.legs.first { $0.kind == .takeProfit })
            try await sim.control.price(symbol, String(format: "%.3f", tp1.triggerPrice * 1.002))
            return try await f.eventually("TP1 of \(symbol) filled and its stop moved", within: .seconds(10)) {
                guard let p = try await f.plan("\(symbol):LONG"), p.legs[tp1.index].status == .filled, let sl = p.stopLossLeg else { return false }
                guard sl.clientOrderId != plan.stopLossLeg?.clientOrderId else { return false }
                return try await everyStopRests()
            }
        }
    }

    @Test func bucketsSpreadMoveOnAKillAndAreFencedAfterAPause() async throws {
        let f = try await SystemFixture("instances")
        let sim = try await SimulatorProcess(hedge: false, extra: ["--symbols", Self.symbols.map { "\($0)=100" }.joined(separator: ",")])
        let w = World(f: f, sim: sim)
        let env = sim.serviceEnvironment.merging(["EXECUTION_BUCKETS": "\(Self.buckets.count)", "LEASE_TTL_S": "\(Self.ttl)"]) { $1 }
        let a = try f.start(.execution, env)
        let b = try f.start(.execution, env)
        try await a.waitLeases(within: .seconds(20))
        try await b.waitLeases(within: .seconds(20))
        let ids = (a: try await w.instance(a), b: try await w.instance(b))
        try await f.eventually("two instances hold 3 buckets each", within: .seconds(10)) {
            try await w.spread() == [ids.a: 3, ids.b: 3]
        }
        for symbol in Self.symbols { try await f.publish(.tradeSignal, f.signalJSON(symbol, "BUY", quantity: 1, price: 100)) }
        try await f.eventually("every position planned with its stop resting at the venue", within: .seconds(15)) {
            try await w.everyStopRests()
        }

        // A third instance: 2 each.
        let c = try f.start(.execution, env)
        try await c.waitLeases(within: .seconds(20))
        let idC = try await w.instance(c)
        try await f.eventually("three instances hold 2 buckets each", within: .seconds(10)) {
            try await w.spread() == [ids.a: 2, ids.b: 2, idC: 2]
        }
        let cBuckets = try await w.holders().filter { $0.value == idC }.map(\.key)

        // SIGKILL c: its buckets are taken within the lease time plus a second.
        let clock = ContinuousClock()
        await c.kill9()
        let killed = clock.now
        var takenAfter: Duration?
        while clock.now - killed < .seconds(Self.ttl + 3) {
            let holders = try await w.holders()
            if cBuckets.allSatisfy({ holders[$0] != nil && holders[$0] != idC }) {
                takenAfter = clock.now - killed
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        print("a killed instance's buckets were taken after \(takenAfter.map { "\($0)" } ?? "never")")
        let taken = try #require(takenAfter, "c's buckets were not taken")
        #expect(taken <= .seconds(Self.ttl + 1), "taken after \(taken), over LEASE_TTL_S + 1 s")
        try await f.eventually("a and b hold 3 each again", within: .seconds(10)) { try await w.spread() == [ids.a: 3, ids.b: 3] }
        // Its positions keep being managed: a take-profit filled at the venue moves the stop.
        let cSymbol = Self.symbols[cBuckets[0]]
        #expect(try await w.tp1Managed(cSymbol))

        // SIGSTOP b past its lease time: a takes every bucket; a take-profit of b's fills
        // meanwhile and a moves its stop. Woken, b has lost its leases and sends nothing for them.
        let bBuckets = try await w.holders().filter { $0.value == ids.b }.map(\.key).sorted()
        let bSymbol = Self.symbols[bBuckets.first { Self.symbols[$0] != cSymbol } ?? bBuckets[0]]
        b.signal(SIGSTOP)
        try await f.eventually("a holds every bucket while b is stopped", within: .seconds(Self.ttl + 5)) {
            try await w.spread() == [ids.a: Self.buckets.count]
        }
        #expect(try await w.tp1Managed(bSymbol))
        let before = try await sim.control.state().submissions
        b.signal(SIGCONT)
        try await f.eventually("b back with its share after it woke", within: .seconds(15)) { try await w.spread() == [ids.a: 3, ids.b: 3] }
        try await f.eventually("every stop resting", within: .seconds(10)) { try await w.everyStopRests() }
        try await Task.sleep(for: .seconds(1))
        let state = try await sim.control.state()
        let twice = state.submissions.filter { $0.value > 1 }
        #expect(twice.isEmpty, "client order ids sent twice: \(twice)")
        #expect(state.acceptances.values.allSatisfy { $0 == 1 }, "accepted twice: \(state.acceptances.filter { $0.value > 1 })")
        let sentAfterWake = state.submissions.filter { before[$0.key] == nil }.map(\.key)
        #expect(b.output.contains("bucket leases lost"), "b saw that it lost its leases:\n\(b.output.suffix(3000))")
        print("orders sent after b woke: \(sentAfterWake.count)")
        let refused = b.output.split(separator: "\n").filter { $0.contains("fenced: ") }
        print("writes b tried after it woke and were refused as fenced: \(refused.count)")
        await f.stopAll()
        await sim.stop()
    }

    /// The monitor counts more buckets than the execution instance leases (a configuration
    /// that differs between them): the buckets nobody holds are critical alerts after two lease
    /// times, the held ones are not.
    @Test func aBucketHeldByNobodyIsACriticalAlert() async throws {
        let f = try await SystemFixture("unowned")
        let alerts = await ChannelRecorder(f.redis.configuration(), channels: [f.namespace.channel(.alert)])
        defer { alerts.close() }
        let execution = try f.start(.execution, ["EXECUTION_BUCKETS": "2", "LEASE_TTL_S": "1"])
        let monitor = try f.start(.monitor, ["EXECUTION_BUCKETS": "4", "LEASE_TTL_S": "1"])
        try await execution.waitLeases(within: .seconds(20))
        try await monitor.waitHealth(200, within: .seconds(20))
        try await f.eventually("BUCKET_UNOWNED for buckets 2 and 3", within: .seconds(10)) {
            let unowned = alerts.texts.filter { $0.contains(#""code":"BUCKET_UNOWNED""#) }
            return unowned.contains { $0.contains("bucket:2") } && unowned.contains { $0.contains("bucket:3") }
        }
        let unowned = alerts.texts.filter { $0.contains(#""code":"BUCKET_UNOWNED""#) }
        #expect(unowned.allSatisfy { $0.contains(#""severity":"critical""#) }, "\(unowned)")
        #expect(!unowned.contains { $0.contains("bucket:0") || $0.contains("bucket:1") }, "held buckets raised no alert: \(unowned)")
        #expect(unowned.count == 2, "each unowned bucket once: \(unowned)")
        await f.stopAll()
    }

    /// A signal that comes while a killed instance's buckets are still leased to it waits for
    /// the instance that takes them, instead of being dropped.
    @Test func aSignalDuringATakeoverWaitsForTheNewHolder() async throws {
        let f = try await SystemFixture("takeover")
        let first = try f.start(.execution)
        try await first.waitLeases(within: .seconds(20))
        await first.kill9()
        let killed = ContinuousClock().now
        let second = try f.start(.execution)
        try await second.waitHealth(200, containing: #""eventbus":{"status":"OK""#, within: .seconds(20))
        #expect(!(try await second.get("/health").body.contains(#""leases":{"status":"OK""#)), "the killed instance's leases are not expired yet")
        // Past three lease passes of silence, the old holder counts as gone.
        let wait = Duration.seconds(2) - (ContinuousClock().now - killed)
        if wait > .zero { try await Task.sleep(for: wait) }
        try await f.publish(.tradeSignal, f.signalJSON("BTCUSDT", "BUY", quantity: 0.01, price: 50_000))
        try await f.eventually("the signal planned once the buckets are taken", within: .seconds(10)) {
            try await f.plan("BTCUSDT:LONG") != nil
        }
        #expect(!second.output.contains("signal dropped"))
        await f.stopAll()
    }
}
