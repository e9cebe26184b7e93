import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient
import Support
import Testing

/// Random signals and prices over many symbols; a sampler checks, twice a second, that every
/// open position has an ACTIVE plan with a pending stop-loss (once it is older than one
/// monitor interval) and that no plan ever exited more than its position held.
/// 60 s by default; `EXITBRAIN_SOAK_S=600` for the long run.
@Suite("Soak", .serialized, .enabled(if: TestRedis.isCI || TestProcess.find("redis-server") != nil, "needs redis-server"))
struct SoakTests {
    static let seconds = Int(ProcessInfo.processInfo.environment["EXITBRAIN_SOAK_S"] ?? "") ?? 60

    @Test func everyPositionKeepsItsProtectivePlanAndNothingExitsTwice() async throws {
        let f = try await SystemFixture("soak")
        let interval = 1.0
        let execution = try f.start(.execution, ["LOG_LEVEL": "warning"])
        let monitor = try f.start(.monitor, ["LOG_LEVEL": "warning", "MONITOR_INTERVAL_S": String(interval)])
        try await execution.waitHealth(200, within: .seconds(20))
        try await monitor.waitHealth(200, within: .seconds(20))

        let symbols = (0..<24).map { "SOAK\($0)USDT" }
        let driver = Task {
            let conn = RedisConnection(configuration: f.redis.configuration())
            var rng = SystemRandomNumberGenerator()
            var prices = Dictionary(uniqueKeysWithValues: symbols.map { ($0, 100.0) })
            var step = 0
            while !Task.isCancelled {
                step += 1
                var batch: [RedisCommand] = []
                for s in symbols {
                    // ±0.4 % steps with an occasional 3 % gap: ladders, stops and trails all fire.
                    let jump = Int.random(in: 0..<200, using: &rng) == 0 ? Double.random(in: -0.03...0.03, using: &rng) : 0
                    prices[s] = Rounding.price(prices[s]! * (1 + Double.random(in: -0.004...0.004, using: &rng) + jump))
                    batch.append(RedisCommand(["PUBLISH", f.namespace.channel(.marketTick), f.tickJSON(s, prices[s]!)]))
                }
                if step % 3 == 0 {
                    let s = symbols.randomElement(using: &rng)!
                    let side = Bool.random(using: &rng) ? "BUY" : "SELL"
                    let quantity = Rounding.quantity(Double.random(in: 0.1...3, using: &rng))
                    batch.append(
                        RedisCommand([
                            "PUBLISH", f.namespace.channel(.tradeSignal),
                            f.signalJSON(s, side, quantity: quantity, price: prices[s]!, leverage: [5, 10, 20].randomElement(using: &rng)!),
                        ]))
                }
                _ = try? await conn.pipeline(batch)
                try? await Task.sleep(for: .milliseconds(100))
            }
            await conn.close()
        }
        defer { driver.cancel() }

        let clock = ContinuousClock()
        let end = clock.now + .seconds(Self.seconds)
        var samples = 0
        var violations: [String] = []
        var positionsSeen = Set<String>()
        var maxOpen = 0
        let grace = interval + 1.0
        while clock.now < end {
            try await Task.sleep(for: .milliseconds(500))
            // One consistent view of both hashes.
            let replies = try await f.conn.transaction([
                RedisCommand(["HGETALL", f.namespace.positions]), RedisCommand(["HGETALL", f.namespace.plans]),
            ])
            let now = Date()
            var plans: [String: ExitPlan] = [:]
            let planItems = replies[1].array ?? []
            for i in stride(from: 0, to: planItems.count - 1, by: 2) {
                if let field = planItems[i].string, let bytes = planItems[i + 1].bytes { plans[field] = try PlanJSON.decode(bytes) }
            }
            let positionItems = replies[0].array ?? []
            maxOpen = max(maxOpen, positionItems.count / 2)
            for i in stride(from: 0, to: positionItems.count - 1, by: 2) {
                guard let field = positionItems[i].string, let bytes = positionItems[i + 1].bytes else { continue }
                let position = try PlanJSON.decodeValue(PositionSnapshot.self, from: bytes)
                positionsSeen.insert(field)
                let age = position.openedAt.map { now.timeIntervalSince($0) } ?? .infinity
                guard age > grace else { continue }
                guard let plan = plans[field] else {
                    violations.append("\(field) open \(String(format: "%.1f", age)) s without a plan")
                    continue
                }
                if plan.status != .active { violations.append("\(field): plan \(plan.status.rawValue)") }
                let protected = plan.strategyId == .emergencyExit || plan.legs.contains { $0.kind == .stopLoss && $0.status == .pending }
                if !protected { violations.append("\(field): plan v\(plan.version) has no pending stop-loss") }
            }
            for (field, plan) in plans {
                let exited = plan.legs.filter { $0.status == .filled }.reduce(0) { $0 + $1.quantity }
                if exited > plan.initialQuantity + 1e-8 { violations.append("\(field): exits \(exited) over \(plan.initialQuantity)") }
            }
            samples += 1
        }
        driver.cancel()
        // Closed plans too: no plan in history exited more than it held.
        let history = try await f.conn.send("XRANGE", f.namespace.history, "-", "+").array ?? []
        var closed = 0
        for entry in history {
            guard let fields = entry.array?.last?.array, fields.count >= 2, let bytes = fields[1].bytes else { continue }
            let plan = try PlanJSON.decode(bytes)
            closed += 1
            let exited = plan.legs.filter { $0.status == .filled }.reduce(0) { $0 + $1.quantity }
            if exited > plan.initialQuantity + 1e-8 { violations.append("history \(plan.key): exits \(exited) over \(plan.initialQuantity)") }
        }
        // Every exit order was filled once: the paper venue's book has no id twice by design;
        // each filled leg's order id is in it.
        let orders = Set(try await f.conn.send("HKEYS", f.namespace.paperOrders).array?.compactMap(\.string) ?? [])
        // Each sample is 0.5 s of sleep plus its read: at least nine in ten of the 0.5 s steps.
        #expect(samples >= Self.seconds * 2 * 9 / 10, "\(samples) samples")
        #expect(positionsSeen.count >= 10 && closed >= 5, "the soak exercised too little: \(positionsSeen.count) positions, \(closed) closed plans")
        #expect(orders.count > closed)
        // On a violation, what the services said about those positions.
        let keys = Set(
            violations.compactMap { v in
                // The position's key is the first word with a colon in it ("history BTCUSDT:LONG: …").
                v.split(separator: " ").first { $0.contains(":") && $0.count > 2 }.map {
                    String($0).trimmingCharacters(in: CharacterSet(charactersIn: ":"))
                }
            })
        let said = (execution.output + monitor.output).split(separator: "\n").filter { line in keys.contains { line.contains($0) } }.suffix(40)
        #expect(violations.isEmpty, "\(violations.count) violations, first: \(violations.prefix(10))\n\(said.joined(separator: "\n"))")
        #expect(execution.isRunning && monitor.isRunning)
        print(
            "soak: \(Self.seconds) s, \(samples) samples, \(positionsSeen.count) positions, at most \(maxOpen) open, \(closed) plans closed, \(orders.count) orders, \(violations.count) violations"
        )
        await f.stopAll()
    }
}
