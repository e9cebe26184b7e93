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
            try planner.makePlan(
                PlannerInput(
                    symbol: "B\(i)USDT", side: .long, entryPrice: 50_000, quantity: 0.01, leverage: 10,
                    planId: UUID().uuidString.lowercased(), now: now))
        }
        _ = try await store.getOrCreate(try plan(-1), retroactive: false)  // loads the scripts
        var stored = try await store.get(PositionKey(symbol: "B-1USDT", side: .long))
        if var p = stored {
            p.version += 1
            _ = try await store.update(p, expectedVersion: p.version - 1, event: nil)
            stored = p
        }
        let p50 = { (a: [Double]) in a.sorted()[a.count / 2] }
        let p99 = { (a: [Double]) in a.sorted()[min(a.count - 1, a.count * 99 / 100)] }
        print("plan store (\(operations) plans per run, one connection)")
        // Run 1 calls from an ordinary task (two thread hand-offs per call, as a service pays);
        // run 2 from a task that prefers the connection's thread. PING is timed the same way
        // as the store calls in each run, so each ratio compares like with like.
        for pinned in [false, true] {
            let plans = try (0..<operations).map { try plan($0 + (pinned ? operations : 0)) }
            let run = { () async throws -> Figures in try await measure(conn: conn, store: store, plans: plans) }
            let f = pinned ? try await withTaskExecutorPreference(conn.taskExecutor, operation: run) : try await run()
            print(pinned ? "  calling task pinned to the connection thread:" : "  calling from any task:")
            print(String(format: "    PING                 p50 %7.1f µs  p99 %7.1f µs", p50(f.ping), p99(f.ping)))
            print(
                String(
                    format: "    get-or-create        p50 %7.1f µs  p99 %7.1f µs  %.2f round trips/op  p50 ratio to PING %.2f", p50(f.create),
                    p99(f.create), f.createTrips, p50(f.create) / p50(f.ping)))
            print(
                String(
                    format: "    compare-and-set      p50 %7.1f µs  p99 %7.1f µs  %.2f round trips/op  p50 ratio to PING %.2f", p50(f.update),
                    p99(f.update), f.updateTrips, p50(f.update) / p50(f.ping)))
        }
        let sample = try (0..<operations).map(plan)
        let clock = ContinuousClock()
        let encodeStart = clock.now
        for p in sample { _ = try PlanJSON.encode(p) }
        let encodeUs = (clock.now - encodeStart).secondsValue * 1e6 / Double(operations)
        let workStart = clock.now
        var bytes = 0
        for p in sample {
            let json = try PlanJSON.encode(p)
            let head = EventEnvelope.head(type: .planCreated, source: "bench", now: Date()) + EventEnvelope.planCreatedHead
            let tail = EventEnvelope.planCreatedTail(retroactive: false, closeEnvelope: true)
            let command = RedisCommand([
                "EVALSHA", String(repeating: "0", count: 40), 1, ns.plans, p.key.description, json,
                ns.channel(.planCreated), head, tail,
            ])
            bytes += command.arguments.reduce(0) { $0 + $1.count }
        }
        let workUs = (clock.now - workStart).secondsValue * 1e6 / Double(operations)
        if ProcessInfo.processInfo.environment["EXITBRAIN_BENCH_DETAIL"] != nil {
            func time(_ label: String, _ body: () throws -> Void) rethrows {
                let t = clock.now
                for _ in 0..<operations { try body() }
                print(String(format: "    %@: %.2f µs", label, (clock.now - t).secondsValue * 1e6 / Double(operations)))
            }
            let p = sample[0]
            let json = try PlanJSON.encode(p)
            try time("encode") { _ = try PlanJSON.encode(p) }
            time("UUID string (Foundation)") { _ = UUID().uuidString.lowercased() }
            time("RandomUUID.string") { _ = RandomUUID.string() }
            time("envelope head") { _ = EventEnvelope.head(type: .planCreated, source: "bench", now: Date()) + EventEnvelope.planCreatedHead }
            time("envelope tail") { _ = EventEnvelope.planCreatedTail(retroactive: false, closeEnvelope: true) }
            time("key + channel") { _ = (p.key.description, ns.channel(.planCreated)) }
            let head = EventEnvelope.head(type: .planCreated, source: "bench", now: Date())
            time("command") {
                _ = RedisCommand([
                    "EVALSHA", "0000000000000000000000000000000000000000", 1, ns.plans, p.key.description, json, ns.channel(.planCreated), head, head,
                ])
            }
        }
        print(
            String(
                format:
                    "  plan JSON encoding in Swift: %.1f µs per plan; all client work of a get-or-create (plan, envelope, command): %.1f µs, %d bytes",
                encodeUs, workUs, bytes / operations))
        try await BenchSupport.deleteNamespace(ns, on: conn)
    }

    struct Figures {
        var ping: [Double] = []
        var create: [Double] = []
        var update: [Double] = []
        var createTrips = 0.0
        var updateTrips = 0.0
    }

    /// Each operation is timed right after a PING, so that baseline and operation see the same
    /// moment of a busy machine (blocks of one and then the other drift apart).
    static func measure(conn: RedisConnection, store: PlanStore, plans: [ExitPlan]) async throws -> Figures {
        let clock = ContinuousClock()
        var f = Figures()
        var pingTrips = 0
        var trips = conn.stats.roundTrips
        for p in plans {
            var t = clock.now
            try await conn.send("PING")
            f.ping.append((clock.now - t).secondsValue * 1e6)
            pingTrips += 1
            t = clock.now
            _ = try await store.getOrCreate(p, retroactive: false)
            f.create.append((clock.now - t).secondsValue * 1e6)
        }
        f.createTrips = Double(conn.stats.roundTrips - trips - pingTrips) / Double(plans.count)
        trips = conn.stats.roundTrips
        pingTrips = 0
        for var p in plans {
            p.version += 1
            let event = PlanUpdatedEvent(key: p.key.description, planId: p.planId, version: p.version, change: "SL_MOVED", changes: ["SL_MOVED"])
            var t = clock.now
            try await conn.send("PING")
            f.ping.append((clock.now - t).secondsValue * 1e6)
            pingTrips += 1
            t = clock.now
            _ = try await store.update(p, expectedVersion: p.version - 1, event: event)
            f.update.append((clock.now - t).secondsValue * 1e6)
        }
        f.updateTrips = Double(conn.stats.roundTrips - trips - pingTrips) / Double(plans.count)
        return f
    }
}
