import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient

/// Plan store operations: round trips per operation and latency beside a plain PING.
enum StoreBench {
    static func run(config: RedisConfiguration, operations: Int) async throws {
        let conn = RedisConnection(configuration: config, name: "bench-store")
        let ns = try Namespace("bench-\(getpid())")
        let bus = EventBus(redis: conn, namespace: ns, source: "bench")
        let store = PlanStore(redis: conn, namespace: ns, bus: bus)
        let planner = Planner()
        let now = Date()
        func plan(_ i: Int) throws -> ExitPlan {
            try planner.makePlan(PlannerInput(symbol: "B\(i)USDT", side: .long, entryPrice: 50_000, quantity: 0.01, leverage: 10,
                                              planId: UUID().uuidString.lowercased(), now: now))
        }
        _ = try await store.getOrCreate(try plan(-1), retroactive: false) // loads the scripts
        var stored = try await store.get(PositionKey(symbol: "B-1USDT", side: .long))
        if var p = stored {
            p.version += 1
            _ = try await store.update(p, expectedVersion: p.version - 1, event: nil)
            stored = p
        }
        let plans = try (0..<operations).map(plan)
        let clock = ContinuousClock()
        var ping: [Double] = []
        for _ in 0..<operations { ping.append(try await conn.ping().secondsValue * 1e6) }
        var create: [Double] = []
        let rt0 = conn.stats.roundTrips
        for p in plans {
            let t = clock.now
            _ = try await store.getOrCreate(p, retroactive: false)
            create.append((clock.now - t).secondsValue * 1e6)
        }
        let createTrips = Double(conn.stats.roundTrips - rt0) / Double(operations)
        var update: [Double] = []
        let rt1 = conn.stats.roundTrips
        for var p in plans {
            p.version += 1
            let event = PlanUpdatedEvent(key: p.key.description, planId: p.planId, version: p.version, change: "SL_MOVED", changes: ["SL_MOVED"])
            let t = clock.now
            _ = try await store.update(p, expectedVersion: p.version - 1, event: event)
            update.append((clock.now - t).secondsValue * 1e6)
        }
        let updateTrips = Double(conn.stats.roundTrips - rt1) / Double(operations)
        let encodeStart = clock.now
        for p in plans { _ = try PlanJSON.encode(p) }
        let encodeUs = (clock.now - encodeStart).secondsValue * 1e6 / Double(operations)
        let p50 = { (a: [Double]) in a.sorted()[a.count / 2] }
        let p99 = { (a: [Double]) in a.sorted()[min(a.count - 1, a.count * 99 / 100)] }
        print("plan store (\(operations) plans, one connection)")
        print(String(format: "  PING                 p50 %7.1f µs  p99 %7.1f µs", p50(ping), p99(ping)))
        print(String(format: "  get-or-create        p50 %7.1f µs  p99 %7.1f µs  %.2f round trips/op  p50 ratio to PING %.2f", p50(create), p99(create), createTrips, p50(create) / p50(ping)))
        print(String(format: "  compare-and-set      p50 %7.1f µs  p99 %7.1f µs  %.2f round trips/op  p50 ratio to PING %.2f", p50(update), p99(update), updateTrips, p50(update) / p50(ping)))
        print(String(format: "  (of which plan JSON encoding in Swift: %.1f µs per plan)", encodeUs))
        var cursor = "0"
        repeat {
            let r = try await conn.send("SCAN", cursor, "MATCH", "\(ns.prefix):*", "COUNT", 1000)
            cursor = r.array?.first?.string ?? "0"
            let keys = r.array?.last?.array?.compactMap(\.bytes) ?? []
            if !keys.isEmpty { try await conn.send(RedisCommand(["DEL"] + keys)) }
        } while cursor != "0"
    }
}
