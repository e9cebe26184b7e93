import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import MonitoringService
import RedisClient
import Support
import Testing

@Suite("Reconciler on real Redis", .enabled(if: TestRedis.enabled))
struct ReconcilerTests {
    func make(_ label: String, grace: Duration = .milliseconds(200)) async throws -> (EngineFixture, Reconciler, AlertSink) {
        let f = try await EngineFixture(label)
        let alerts = AlertSink(bus: f.book, settings: AlertSettings(dedupe: .seconds(60)), logger: Logger(label: "t"))
        let r = Reconciler(book: f.book, alerts: alerts, profile: .default, grace: grace, feeRate: 0.0004, logger: Logger(label: "t"))
        return (f, r, alerts)
    }

    @Test func twentyOrphanPositionsGetOneRetroactivePlanEach() async throws {
        let (f, r, alerts) = try await make("rec-orphans")
        for i in 0..<20 {
            let side: PositionSide = i % 2 == 0 ? .long : .short
            try await f.redis.send(
                "HSET", f.namespace.positions, "S\(i)USDT:\(side.rawValue)",
                #"{"symbol":"S\#(i)USDT","positionAmt":"\#(side == .long ? "" : "-")3","entryPrice":"100","markPrice":"100"}"#)
        }
        let first = try await r.pass()
        #expect(first.created == 20)
        #expect(first.roundTrips <= 5, "read, script load, 20 creations in one pipeline, alerts in one: \(first.roundTrips) round trips")
        let all = try await f.plans.all()
        #expect(all.plans.count == 20)
        #expect(all.plans.values.allSatisfy { $0.source == .retroactive })
        let short = try #require(all.plans[PositionKey(symbol: "S1USDT", side: .short)])
        #expect(short.legs.filter { $0.kind == .takeProfit }.allSatisfy { $0.triggerPrice < 100 }, "SHORT ladder mirrored below entry")
        #expect(short.stopLossLeg.map { $0.triggerPrice > 100 } == true)
        let second = try await r.pass()
        #expect(second.created == 0)
        #expect(second.roundTrips <= 5, "steady pass: \(second.roundTrips) round trips")
        // One info alert per position up to the per-pass limit, then one summary naming the count.
        let single = alerts.sent.filter { $0.code == "PLAN_CREATED_RETROACTIVELY" }
        #expect(single.count == Reconciler.individualAlerts)
        #expect(Set(single.compactMap(\.key)).count == Reconciler.individualAlerts)
        let summary = alerts.sent.filter { $0.code == "PLANS_CREATED_RETROACTIVELY" }
        #expect(summary.count == 1)
        #expect(summary.first?.message.hasPrefix("20 positions had no exit plan") == true)
        #expect(first.created == 20)
        await f.cleanup()
    }

    @Test func racingPlannersOnOneHundredPositionsMakeOneHundredPlans() async throws {
        let (f, r, _) = try await make("rec-race")
        let h = await f.harness()
        let listener = RedisSubscriber(configuration: try await TestRedis.configuration(), channels: [f.namespace.channel(.planCreated)])
        listener.start()
        #expect(await listener.waitUntilSubscribed())
        async let signals: Void = {
            for i in 0..<100 { try? await h.signal(.buy, symbol: "R\(i)USDT", quantity: 1, price: 10) }
        }()
        async let passes: Void = {
            for _ in 0..<20 { _ = try? await r.pass() }
        }()
        _ = await (signals, passes)
        _ = try await r.pass()
        #expect(try await f.plans.count() == 100)
        var count = 0
        var it = listener.messages.makeAsyncIterator()
        while count < 100, let _ = await it.next() { count += 1 }
        #expect(count == 100)
        listener.close()
        await f.cleanup()
    }

    @Test func stalePlanClosedOnlyAfterGrace() async throws {
        let (f, r, _) = try await make("rec-stale", grace: .milliseconds(300))
        let h = await f.harness()
        try await h.signal(.buy)
        try await f.positions.remove(PositionKey(symbol: "BTCUSDT", side: .long))
        _ = try await r.pass()
        #expect(try await f.plans.count() == 1, "first sighting starts the grace period")
        _ = try await r.pass()
        #expect(try await f.plans.count() == 1, "still inside the grace period")
        try await Task.sleep(for: .milliseconds(350))
        let result = try await r.pass()
        #expect(result.closed == 1)
        #expect(try await f.plans.count() == 0)
        #expect(try await f.plans.history(count: 1).first?.closedReason == .positionClosed)
        await f.cleanup()
    }

    @Test func planWithoutStopLossIsRepaired() async throws {
        let (f, r, alerts) = try await make("rec-repair")
        let h = await f.harness()
        try await h.signal(.buy)
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        var broken = try #require(try await f.plans.get(key))
        broken.legs.removeAll { $0.kind == .stopLoss }
        broken.version += 1
        #expect(try await f.plans.update(broken, expectedVersion: broken.version - 1, event: nil) == .written)
        _ = try await r.pass()
        _ = try await r.pass()
        let repaired = try #require(try await f.plans.get(key))
        #expect(repaired.stopLossLeg != nil)
        #expect(repaired.planId == broken.planId)
        #expect(alerts.sent.contains { $0.code == "PLAN_WITHOUT_SL" })
        await f.cleanup()
    }

    @Test func withTheChangeFeedSteadyPassesReadOnlyWhatChanged() async throws {
        let (f, r, alerts) = try await make("rec-feed")
        let feed = ChangeFeed(configuration: f.config.common.redis, namespace: f.namespace, reconciler: r)
        await feed.start()
        let feedTask = Task { await feed.run() }
        defer {
            feed.close()
            feedTask.cancel()
        }
        #expect(await feed.waitUntilSubscribed())
        let h = await f.harness()
        for symbol in ["AUSDT", "BUSDT", "CUSDT"] { try await h.signal(.buy, symbol: symbol) }
        func pass() async throws -> Reconciler.PassResult {
            try await Task.sleep(for: .milliseconds(150))  // let the events of the last writes arrive
            await feed.checkIntact()
            return try await r.pass()
        }
        let first = try await pass()
        #expect(first.plans == 3 && first.roundTrips == 1, "full read: \(first)")
        let steady = try await pass()
        #expect(steady.plans == 3 && steady.positions == 3)
        #expect(steady.roundTrips == 1, "names only, nothing changed: \(steady.roundTrips) round trips")

        // A position written with no event is found by its name and gets its plan.
        try await f.redis.send("HSET", f.namespace.positions, "DUSDT:LONG", #"{"symbol":"DUSDT","side":"LONG","quantity":1,"entry_price":10}"#)
        let orphan = try await pass()
        #expect(orphan.created == 1 && orphan.roundTrips <= 4, "names, the new record, the creation, its alert: \(orphan)")

        // A plan changed with its event is read again: its missing stop-loss is repaired.
        let key = PositionKey(symbol: "AUSDT", side: .long)
        var broken = try #require(try await f.plans.get(key))
        broken.legs.removeAll { $0.kind == .stopLoss }
        broken.version += 1
        let event = PlanUpdatedEvent(key: key.description, planId: broken.planId, version: broken.version, change: "TEST", changes: ["TEST"])
        #expect(try await f.plans.update(broken, expectedVersion: broken.version - 1, event: event) == .written)
        _ = try await pass()
        let repairedPass = try await pass()
        #expect(repairedPass.repaired == 1)
        #expect(try await f.plans.get(key)?.stopLossLeg != nil)
        #expect(alerts.sent.contains { $0.code == "PLAN_WITHOUT_SL" && $0.key == key.description })

        // A change made without any event is not seen by steady passes, and is seen once
        // events may have been lost (here: said so), because that pass reads everything.
        let other = PositionKey(symbol: "BUSDT", side: .long)
        var silent = try #require(try await f.plans.get(other))
        silent.legs.removeAll { $0.kind == .stopLoss }
        silent.version += 1
        #expect(try await f.plans.update(silent, expectedVersion: silent.version - 1, event: nil) == .written)
        _ = try await pass()
        #expect(try await pass().repaired == 0, "steady passes trust the feed")
        await r.noteLostEvents()
        _ = try await pass()
        #expect(try await pass().repaired == 1, "a full read finds the silent change")
        await f.cleanup()
    }
}
