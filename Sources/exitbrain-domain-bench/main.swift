// Benchmarks of the pure domain: planner, executor evaluation, plan JSON.
// Run in release: `swift run -c release exitbrain-domain-bench`.
import ExitBrainDomain
import Foundation

extension SplitMix64 {
    mutating func unit() -> Double { nextDouble() }
    mutating func range(_ a: Double, _ b: Double) -> Double { a + (b - a) * unit() }
    mutating func chance(_ p: Double) -> Bool { unit() < p }
}

func seconds(_ duration: Duration) -> Double {
    let c = duration.components
    return Double(c.seconds) + Double(c.attoseconds) * 1e-18
}

let start = Date(timeIntervalSince1970: 1_795_631_904.123)

func randomInput(_ i: Int, _ rng: inout SplitMix64) -> PlannerInput {
    let entry = Rounding.price(pow(10, rng.range(-2, 5)))
    let hints =
        rng.chance(0.7)
        ? RLHints(
            tpTargetPct: rng.chance(0.5) ? rng.range(0.01, 0.1) : nil, slTargetPct: rng.chance(0.5) ? rng.range(0.005, 0.05) : nil,
            trailCallbackPct: rng.chance(0.5) ? rng.range(0.005, 0.03) : nil, confidence: rng.range(0.3, 1))
        : nil
    let market = MarketData(
        volatility: rng.range(0, 0.06), trendStrength: rng.range(-1, 1), regime: nil, atrPct: rng.chance(0.3) ? rng.range(0.002, 0.02) : nil)
    let risk = RiskContext(riskMode: rng.chance(0.9) ? .normal : .conservative)
    return PlannerInput(
        symbol: "BTCUSDT", side: rng.chance(0.5) ? .long : .short, entryPrice: entry,
        quantity: Rounding.quantity(rng.range(0.001, 5)), leverage: [1, 5, 10, 20, 50][Int(rng.next() % 5)],
        markPrice: entry * (1 + rng.range(-0.005, 0.005)),
        context: PlanContext(rlHints: hints, riskContext: risk, marketData: market),
        profile: rng.chance(0.2) ? .challenge100 : .default, source: .execution,
        planId: String(format: "%08x-9c2e-4f1a-8b7d-%012x", i, i &* 7919), now: start.addingTimeInterval(Double(i))
    )
}

func run(only: String?) {
    let wants: (String) -> Bool = { only == nil || only == $0 }
    var rng = SplitMix64(seed: 0xB3_4C_11)
    let clock = ContinuousClock()
    var checksum = 0.0
    let planner = Planner()
    let executor = PlanExecutor()

    // Planner
    let inputCount = 100_000
    let inputs = (0..<inputCount).map { randomInput($0, &rng) }
    var plans: [ExitPlan] = []
    plans.reserveCapacity(inputCount)
    for input in inputs.prefix(1000) { checksum += (try? planner.makePlan(input))?.legs[0].triggerPrice ?? 0 }  // warm-up
    var planTime = clock.measure {
        for input in inputs.prefix(wants("planner") ? inputCount : 0) {
            if let plan = try? planner.makePlan(input) { plans.append(plan) }
        }
    }
    if !wants("planner") {
        planTime = clock.measure { plans = inputs.compactMap { try? planner.makePlan($0) } }
    }
    checksum += plans.reduce(0) { $0 + $1.legs[0].triggerPct }
    if wants("planner") { print(String(format: "planner:    %.3f µs per plan (%d plans)", seconds(planTime) / Double(inputCount) * 1e6, inputCount)) }

    // Executor: 2000 positions × 1000 prices each, a random walk with occasional gaps; a plan that
    // closes is replaced by its original so every tick evaluates an active plan.
    let positions = wants("eval") ? 2000 : 0
    let ticks = 1000
    var paths: [[Double]] = []
    for p in 0..<positions {
        var price = plans[p].entryPrice
        let vol = rng.range(0.0005, 0.004)
        paths.append(
            (0..<ticks).map { _ in
                price *= 1 + rng.range(-vol, vol) * (rng.chance(0.01) ? 5 : 1)
                return price
            })
    }
    var decisions = 0
    var changes = 0
    let evalTime = clock.measure {
        for p in 0..<positions {
            let original = plans[p]
            var plan = original
            var now = original.createdAt
            for price in paths[p] {
                now = now.addingTimeInterval(1)
                let evaluation = executor.evaluate(plan: plan, price: price, now: now, mode: .live)
                decisions &+= evaluation.decisions.count
                if evaluation.changed { changes &+= 1 }
                plan = evaluation.plan.isActive ? evaluation.plan : original
            }
            checksum += plan.remainingQuantity
        }
    }
    let evaluations = positions * ticks
    if wants("eval") {
        print(
            String(
                format: "evaluation: %.1f ns per (position, price) (%d evaluations, %d decisions, %d plan changes)",
                seconds(evalTime) / Double(evaluations) * 1e9, evaluations, decisions, changes))
    }

    // Quiet ticks only: price between TP1 and SL, nothing changes.
    var quietPlan = plans[0]
    let quietPrice = quietPlan.entryPrice
    let quietCount = wants("eval") ? 2_000_000 : 1
    let quietTime = clock.measure {
        for i in 0..<quietCount {
            let evaluation = executor.evaluate(plan: quietPlan, price: quietPrice * (1 + Double(i & 7) * 1e-6), now: start, mode: .live)
            if evaluation.changed { quietPlan = evaluation.plan }
        }
    }
    if wants("eval") {
        print(String(format: "evaluation, quiet tick (nothing fires or moves): %.1f ns", seconds(quietTime) / Double(quietCount) * 1e9))
    }

    // JSON
    let jsonCount = wants("json") ? 20_000 : 1
    var encoded: [[UInt8]] = []
    encoded.reserveCapacity(jsonCount)
    let encodeTime = clock.measure {
        for plan in plans.prefix(jsonCount) {
            if let bytes = try? PlanJSON.encode(plan) { encoded.append(bytes) }
        }
    }
    var decodedCount = 0
    let decodeTime = clock.measure {
        for bytes in encoded {
            if let plan = try? PlanJSON.decode(bytes) {
                decodedCount += 1
                checksum += plan.entryPrice
            }
        }
    }
    let averageSize = encoded.reduce(0) { $0 + $1.count } / max(1, encoded.count)
    if wants("json") {
        print(String(format: "json encode: %.2f µs per plan (%d bytes on average)", seconds(encodeTime) / Double(jsonCount) * 1e6, averageSize))
    }
    if wants("json") {
        print(String(format: "json decode: %.2f µs per plan (%d decoded)", seconds(decodeTime) / Double(jsonCount) * 1e6, decodedCount))
    }
    print(String(format: "checksum %.6g", checksum))
}

// `exitbrain-domain-bench [planner|eval|json]` runs one section; no argument runs all.
run(only: CommandLine.arguments.dropFirst().first)
