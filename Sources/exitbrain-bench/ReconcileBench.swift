import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import MonitoringService
import RedisClient

/// One reconcile pass over a large book: half the positions without plans on the first pass,
/// none on the second; time and round trips per pass, beside a PING.
enum ReconcileBench {
    static func run(config: RedisConfiguration, positions count: Int) async throws {
        let conn = RedisConnection(configuration: config, name: "bench-reconcile")
        let ns = try Namespace("bench-reconcile-\(getpid())")
        let bus = EventBus(redis: conn, namespace: ns, source: "monitoring")
        let plans = PlanStore(redis: conn, namespace: ns, bus: bus)
        let positions = PositionStore(redis: conn, namespace: ns)
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let alerts = AlertSink(bus: bus, settings: AlertSettings(), logger: logger)
        let reconciler = Reconciler(
            book: RedisBook(plans: plans, positions: positions, bus: bus), alerts: alerts, profile: .default, grace: .seconds(10), feeRate: 0.0004,
            logger: logger)
        // As the monitoring service runs it: with the change feed from the bus.
        let feed = ChangeFeed(configuration: config, namespace: ns, reconciler: reconciler)
        await feed.start()
        let feedTask = Task { await feed.run() }
        defer {
            feed.close()
            feedTask.cancel()
        }
        _ = await feed.waitUntilSubscribed()

        // The book: `count` positions, every other one with a plan already.
        let now = Date()
        let planner = Planner()
        var writes: [RedisCommand] = []
        var existing: [ExitPlan] = []
        for i in 0..<count {
            let side: PositionSide = i % 3 == 0 ? .short : .long
            let entry = 100 + Double(i % 1000)
            let snapshot = PositionSnapshot(
                symbol: "S\(i)USDT", side: side, quantity: 0.5, entryPrice: entry, markPrice: entry,
                leverage: 10, unrealizedPnl: 0, openedAt: now, updatedAt: now)
            writes.append(RedisCommand(["HSET", ns.positions, snapshot.key.description, try PlanJSON.encodeValue(snapshot)]))
            if i % 2 == 0 {
                existing.append(
                    try planner.makePlan(
                        PlannerInput(
                            symbol: snapshot.symbol, side: side, entryPrice: entry, quantity: 0.5,
                            leverage: 10, planId: UUID().uuidString.lowercased(), now: now)))
            }
        }
        for chunk in stride(from: 0, to: writes.count, by: 2000) {
            _ = try await conn.pipeline(Array(writes[chunk..<min(chunk + 2000, writes.count)]))
        }
        _ = try await plans.getOrCreateMany(existing, retroactive: false, now: now)

        let pingMs = BenchSupport.percentile(try await BenchSupport.pings(conn, count: 200), 0.5) / 1e3
        let clock = ContinuousClock()
        print("reconcile (\(count) positions, \(existing.count) with plans before the first pass; PING p50 \(String(format: "%.3f", pingMs)) ms)")
        for pass in 1...6 {
            if pass == 5 {
                // Changes between passes, as the execution service makes them: 100 plans updated
                // (with their events) and 100 positions written without any event.
                let all = try await plans.all().plans.values.prefix(100)
                for var p in all {
                    p.version += 1
                    _ = try await plans.update(
                        p, expectedVersion: p.version - 1,
                        event: PlanUpdatedEvent(
                            key: p.key.description, planId: p.planId, version: p.version, change: "SL_MOVED", changes: ["SL_MOVED"]))
                }
                var orphans: [RedisCommand] = []
                for i in 0..<100 {
                    let snapshot = PositionSnapshot(
                        symbol: "NEW\(i)USDT", side: .long, quantity: 1, entryPrice: 10, markPrice: 10,
                        leverage: 5, unrealizedPnl: 0, openedAt: now, updatedAt: now)
                    orphans.append(RedisCommand(["HSET", ns.positions, snapshot.key.description, try PlanJSON.encodeValue(snapshot)]))
                }
                _ = try await conn.pipeline(orphans)
                try await Task.sleep(for: .milliseconds(200))
            }
            await feed.checkIntact()
            let r = try await reconciler.pass()
            let label =
                pass == 1
                ? "first pass " : pass == 2 ? "re-reads the 5000 plans it made" : pass == 5 ? "after 100 updates + 100 new positions" : "steady pass"
            print(
                String(
                    format: "  %@ (pass %d): %7.1f ms (%.0f× PING)  %d round trips  positions %d  plans %d  created %d  closed %d  repaired %d",
                    label, pass, r.seconds * 1e3, r.seconds * 1e3 / pingMs, r.roundTrips, r.positions, r.plans, r.created, r.closed, r.repaired))
        }
        let namesStart = clock.now
        let names = try await conn.pipeline([RedisCommand(["HKEYS", ns.positions]), RedisCommand(["HKEYS", ns.plans])])
        let namesRead = clock.now - namesStart
        let fields = names.flatMap { $0.array?.compactMap(\.string) ?? [] }
        print(
            String(
                format: "  of which HKEYS of both alone: %.1f ms (%d names; %.1f ms with their strings)", namesRead.secondsValue * 1e3, fields.count,
                (clock.now - namesStart).secondsValue * 1e3))
        for (name, key) in [("plans", ns.plans), ("positions", ns.positions)] {
            let t = clock.now
            let reply = try await conn.send(RedisCommand(["HGETALL", key]))
            let read = clock.now - t
            let items = reply.array ?? []
            let bytes = items.reduce(0) { $0 + ($1.bytes?.count ?? 0) }
            print(String(format: "  of which HGETALL %@ alone: %.1f ms, %.1f MB", name, read.secondsValue * 1e3, Double(bytes) / 1e6))
        }
        let stored = try await plans.count()
        print("  plans stored after the passes: \(stored) (expected \(count + 100))")
        try await BenchSupport.deleteNamespace(ns, on: conn)
    }
}
