import ExitBrainDomain
import Foundation
import Testing

/// Invariants over thousands of seeded random contexts and price paths.
@Suite struct PropertyTests {
    static func randomContext(_ rng: inout SplitMix64) -> PlanContext {
        var context = PlanContext()
        if rng.chance(0.7) {
            context.rlHints = RLHints(
                tpTargetPct: rng.chance(0.6) ? rng.double(in: 0.001...0.3) : nil,
                slTargetPct: rng.chance(0.6) ? rng.double(in: 0.001...0.1) : nil,
                trailCallbackPct: rng.chance(0.5) ? rng.double(in: 0.002...0.05) : nil,
                confidence: rng.chance(0.8) ? rng.double(in: 0...1) : nil
            )
        }
        if rng.chance(0.6) {
            context.riskContext = RiskContext(
                riskMode: rng.chance(0.8) ? rng.pick([.normal, .normal, .conservative, .critical, .essActive]) : nil,
                maxLossPct: rng.chance(0.3) ? rng.double(in: 0.005...0.08) : nil
            )
        }
        if rng.chance(0.7) {
            context.marketData = MarketData(
                volatility: rng.chance(0.8) ? rng.double(in: 0...0.08) : nil,
                trendStrength: rng.chance(0.6) ? rng.double(in: -1...1) : nil,
                regime: rng.chance(0.4) ? rng.pick(MarketRegime.allCases) : nil,
                atrPct: rng.chance(0.4) ? rng.double(in: 0.0005...0.05) : nil
            )
        }
        return context
    }

    static func randomInput(_ rng: inout SplitMix64, index: Int) -> PlannerInput {
        let entry = Rounding.price(pow(10, rng.double(in: -3...5)))
        let side = rng.pick(PositionSide.allCases)
        let move = rng.chance(0.5) ? 0 : rng.double(in: -0.03...0.03)
        let input = PlannerInput(
            symbol: rng.pick(["BTCUSDT", "ETHUSDT", "SOLUSDT", "PEPEUSDT"]), side: side, entryPrice: entry,
            quantity: Rounding.quantity(pow(10, rng.double(in: -4...4))), leverage: rng.pick([1, 2, 3, 5, 10, 15, 20, 50, 125]),
            markPrice: entry * (1 + move), context: randomContext(&rng),
            profile: rng.chance(0.25) ? .challenge100 : .default, source: rng.chance(0.2) ? .retroactive : .execution,
            planId: String(
                format: "%08x-%04x-4%03x-8%03x-%012llx", index, index % 65_536, index % 4096, (index * 7) % 4096, UInt64(index) &* 2_654_435_761),
            now: Fixture.t0.addingTimeInterval(Double(index) * 0.0137)
        )
        return input
    }

    @Test func plansHoldTheirInvariants() throws {
        var rng = SplitMix64(seed: 0xE817_B4A1)
        var strategies: [StrategyID: Int] = [:]
        for index in 0..<5000 {
            let input = Self.randomInput(&rng, index: index)
            let plan = try Planner().makePlan(input)
            strategies[plan.strategyId, default: 0] += 1
            try plan.validate()
            #expect(plan.version == 1)
            #expect(plan.legs.map(\.index) == Array(plan.legs.indices))
            #expect(Set(plan.legs.map(\.clientOrderId)).count == plan.legs.count)
            for leg in plan.legs {
                #expect(ClientOrderID.isValid(leg.clientOrderId), "\(leg.clientOrderId)")
                #expect(leg.clientOrderId.hasSuffix("-\(leg.index)-1"))
                #expect(leg.triggerPrice > 0 && leg.triggerPrice.isFinite)
            }
            let tps = plan.takeProfits
            #expect(tps.reduce(0) { $0 + $1.sizePct } <= 1 + 1e-12)
            switch plan.strategyId {
            case .standardLadder, .challenge100:
                for tp in tps {
                    #expect(tp.triggerPct > 0)
                    #expect((tp.triggerPrice - plan.entryPrice) * plan.side.sign > 0, "TP on the profitable side")
                }
                let stop = try #require(plan.stop)
                #expect(stop.triggerPct < 0)
                #expect((stop.triggerPrice - plan.entryPrice) * plan.side.sign < 0, "SL on the losing side")
                #expect(zip(tps, tps.dropFirst()).allSatisfy { $0.triggerPct <= $1.triggerPct })
                if plan.strategyId == .standardLadder {
                    #expect(tps.count == 3)
                    #expect(tps.allSatisfy { (0.005...0.10).contains($0.triggerPct) })
                    #expect(units(tps.reduce(0) { $0 + $1.quantity }) == units(plan.initialQuantity))
                    #expect(-stop.triggerPct >= 0.01 && -stop.triggerPct <= 0.05)
                } else {
                    let runner = try #require(plan.legs.first { $0.kind == .trail })
                    #expect(units(tps[0].quantity + runner.quantity) == units(plan.initialQuantity))
                    #expect(plan.timeStopAt != nil)
                }
            case .profitLock:
                #expect(tps.count == 1)
                #expect(units(tps[0].quantity) == units(plan.initialQuantity))
                #expect((tps[0].triggerPrice - input.markPrice) * plan.side.sign > 0, "profit-lock TP beyond the mark")
            case .emergencyExit:
                #expect(plan.legs.map(\.kind) == [.emergency])
            }
            // JSON: byte-identical twice, and a lossless round trip.
            let bytes = try PlanJSON.encode(plan)
            #expect(try PlanJSON.encode(plan) == bytes)
            #expect(try PlanJSON.decode(bytes) == plan)
        }
        #expect(strategies.count == 4, "every strategy was generated: \(strategies)")
    }

    @Test func shortMirrorsLongForRandomContexts() throws {
        var rng = SplitMix64(seed: 42)
        for index in 0..<2000 {
            var input = Self.randomInput(&rng, index: index)
            input.markPrice = input.entryPrice
            input.side = .long
            let long = try Planner().makePlan(input)
            input.side = .short
            let short = try Planner().makePlan(input)
            #expect(long.legs.map(\.triggerPct) == short.legs.map(\.triggerPct))
            #expect(long.legs.map(\.quantity) == short.legs.map(\.quantity))
            #expect(long.legs.map(\.sizePct) == short.legs.map(\.sizePct))
            #expect(long.strategyId == short.strategyId)
        }
    }

    @Test func pricePathsHoldExecutorInvariants() throws {
        var rng = SplitMix64(seed: 0x5EED)
        let executor = PlanExecutor()
        var closedBy: [ClosedReason: Int] = [:]
        for index in 0..<2000 {
            let input = Self.randomInput(&rng, index: index)
            var plan = try Planner().makePlan(input)
            let initial = units(plan.initialQuantity)
            var fired = Set<Int>()
            var price = input.markPrice
            let volatility = rng.double(in: 0.001...0.02)
            let drift = rng.double(in: -0.003...0.003)
            var now = plan.createdAt
            for _ in 0..<60 {
                guard plan.isActive else { break }
                price *= 1 + drift + rng.double(in: -volatility...volatility) * (rng.chance(0.05) ? 4 : 1)
                now = now.addingTimeInterval(rng.double(in: 1...400))
                if rng.chance(0.1) {
                    let shadow = executor.evaluate(plan: plan, price: price, now: now, mode: .shadow)
                    #expect(shadow.plan == plan)
                    #expect(shadow.decisions.allSatisfy { $0.shadow })
                }
                let before = plan
                let evaluation = executor.evaluate(plan: plan, price: price, now: now, mode: .live)
                plan = evaluation.plan
                if evaluation.changed {
                    #expect(plan.version == before.version + 1)
                    #expect(plan.updatedAt == Timestamp.normalize(now))
                } else {
                    #expect(plan == before)
                    #expect(evaluation.decisions.isEmpty)
                }
                for decision in evaluation.decisions {
                    #expect(fired.insert(decision.legIndex).inserted, "leg \(decision.legIndex) fired twice")
                    #expect(decision.reduceOnly)
                    #expect(!decision.shadow)
                    #expect(decision.quantity > 0)
                    #expect(decision.orderSide == plan.side.exitOrderSide)
                    #expect(ClientOrderID.isValid(decision.clientOrderId))
                    #expect(decision.clientOrderId == before.legs[decision.legIndex].clientOrderId)
                }
                #expect(plan.remainingQuantity >= 0)
                #expect(units(plan.filledQuantity) + units(plan.remainingQuantity) == initial)
                for (old, new) in zip(before.legs, plan.legs) {
                    if old.status != .pending { #expect(new == old, "a settled leg never changes") }
                    if old.kind == .stopLoss, new.status == .pending {
                        #expect((new.triggerPrice - old.triggerPrice) * plan.side.sign >= 0, "stop never loosens")
                    }
                }
                if let best = before.trailing.bestPrice, let newBest = plan.trailing.bestPrice {
                    #expect((newBest - best) * plan.side.sign >= 0)
                }
                if plan.status == .closed {
                    #expect(plan.remainingQuantity == 0 || plan.closedReason == .positionClosed)
                    #expect(plan.legs.allSatisfy { $0.status != .pending })
                    #expect(evaluation.closedReason == plan.closedReason)
                    #expect(evaluation.decisions.last?.reason == plan.closedReason)
                    closedBy[plan.closedReason ?? .positionClosed, default: 0] += 1
                }
            }
            let bytes = try PlanJSON.encode(plan)
            #expect(try PlanJSON.decode(bytes) == plan)
            #expect(try PlanJSON.encode(PlanJSON.decode(bytes)) == bytes)
        }
        for reason in [ClosedReason.stopLoss, .takeProfit, .trailingStop, .timeStop, .emergency] {
            #expect((closedBy[reason] ?? 0) > 0, "paths closed by \(reason.rawValue): \(closedBy)")
        }
    }
}
