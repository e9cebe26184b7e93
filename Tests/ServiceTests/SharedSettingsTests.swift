import ExecutionService
import ExitBrainCoordination
import ExitBrainDomain
import ExitBrainService
import Foundation
import Logging
import MonitoringService
import RedisClient
import Support
import Testing

/// Settings both services read (profile, EXIT_BRAIN_V3_ENABLED, fee) are read once, in the common
/// configuration, and both services act on them.
@Suite("Shared settings", .enabled(if: TestRedis.enabled))
struct SharedSettingsTests {
    @Test func bothConfigurationsReadTheSharedSettingsTheSameWay() throws {
        let env = ["PAPER_FEE_RATE": "0.001", "EXIT_BRAIN_PROFILE": "CHALLENGE_100", "EXIT_BRAIN_V3_ENABLED": "false"]
        let execution = try ExecutionConfiguration(environment: env).common
        let monitor = try MonitorConfiguration(environment: env).common
        for common in [execution, monitor] {
            #expect(common.feeRate == 0.001)
            #expect(common.profile == .challenge100)
            #expect(common.exitBrainEnabled == false)
        }
        #expect(throws: ConfigurationError.self) { try MonitorConfiguration(environment: ["PAPER_FEE_RATE": "0.5"]) }
    }

    /// The monitor used to plan and close with the default fee whatever PAPER_FEE_RATE said.
    @Test func theMonitorClosesStalePlansWithTheConfiguredFee() async throws {
        let ns = TestRedis.namespace("fee")
        let config = try MonitorConfiguration(environment: [
            "REDIS_URL": try await TestRedis.url(), "REDIS_NAMESPACE": ns, "PAPER_FEE_RATE": "0.001", "MONITOR_INTERVAL_S": "0.2",
        ])
        let monitor = MonitoringService(config: config, version: "test", logger: Logger(label: "test.monitor"))
        defer { Task { await TestRedis.cleanup(namespace: config.common.namespace.prefix) } }

        // A plan whose TP1 filled, and whose position is gone: the monitor closes it after one
        // grace period, with the realized PnL net of fees at the configured rate.
        let now = Date()
        var plan = try Planner().makePlan(
            PlannerInput(
                symbol: "FEEUSDT", side: .long, entryPrice: 100, quantity: 10, leverage: 10,
                planId: RandomUUID.string(), now: now))
        let tp1 = try #require(plan.legs.firstIndex { $0.kind == .takeProfit })
        plan.legs[tp1].status = .filled
        plan.legs[tp1].filledPrice = 101.5
        plan.remainingQuantity -= plan.legs[tp1].quantity
        _ = try await monitor.planStore.getOrCreate(plan, retroactive: false)

        let closed = RedisSubscriber(configuration: config.common.redis, channels: [config.common.namespace.channel(.planClosed)])
        closed.start()
        defer { closed.close() }
        #expect(await closed.waitUntilSubscribed())
        try await monitor.reconciler.pass()
        try await Task.sleep(for: .milliseconds(300))
        let result = try await monitor.reconciler.pass()
        #expect(result.closed == 1)

        var messages = closed.messages.makeAsyncIterator()
        let message = try #require(await messages.next())
        let envelope = try #require(try JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any])
        let pnl = try #require((envelope["data"] as? [String: Any])?["realized_pnl"] as? Double)
        let withFee = Rounding.price(PlanExecutor(feeRate: 0.001).realizedPnl(plan: plan))
        let withDefault = Rounding.price(PlanExecutor(feeRate: 0.0004).realizedPnl(plan: plan))
        #expect(withFee != withDefault)
        #expect(abs(pnl - withFee) < 1e-9, "realized PnL \(pnl): expected \(withFee) at 0.1 % (\(withDefault) is the default fee's)")
    }
}
