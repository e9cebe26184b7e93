import Foundation
import Testing

@testable import ExitBrainDomain

/// The executor's read-only pre-check must never skip a price that the full step would act on.
@Suite struct FastPathTests {
    @Test func preCheckAgreesWithTheFullStep() throws {
        var rng = SplitMix64(seed: 0xFA57)
        var skipped = 0
        var worked = 0
        for index in 0..<600 {
            let input = PropertyTests.randomInput(&rng, index: index)
            var plan = try Planner().makePlan(input)
            var price = input.markPrice
            var now = plan.createdAt
            for _ in 0..<80 where plan.isActive {
                price *= 1 + rng.double(in: -0.012...0.012)
                now = now.addingTimeInterval(rng.double(in: 1...300))
                var step = ExecutionStep(plan: plan, price: price, now: now, shadow: false, feeRate: 0.0004)
                step.run()
                let acts = !step.changes.isEmpty || !step.decisions.isEmpty
                if ExecutionStep.hasWork(plan, price: price, now: now) {
                    worked += 1
                } else {
                    skipped += 1
                    #expect(!acts, "pre-check skipped a price the step acts on: \(price) for \(plan.key)")
                }
                if acts { plan = PlanExecutor().evaluate(plan: plan, price: price, now: now, mode: .live).plan }
            }
        }
        #expect(skipped > 1000 && worked > 100, "both paths exercised: skipped \(skipped), worked \(worked)")
    }
}
