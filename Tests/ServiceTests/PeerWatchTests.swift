import ExitBrainCoordination
import ExitBrainService
import Foundation
import Logging
import MonitoringService
import RedisClient
import ServiceLifecycle
import Support
import Testing

@Suite("Monitor watching its peer", .enabled(if: TestRedis.enabled))
struct PeerWatchTests {
    @Test func heartbeatsStopGivesDegradedAndCriticalAlertWithinThreeBeatsAndResumeGivesOK() async throws {
        let beat = 0.5
        let ns = TestRedis.namespace("peer")
        let config = try MonitorConfiguration(environment: [
            "REDIS_URL": try await TestRedis.url(), "REDIS_NAMESPACE": ns, "HEARTBEAT_INTERVAL_S": String(beat), "MONITOR_INTERVAL_S": "1",
        ])
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let monitor = MonitoringService(config: config, version: "test", logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: monitor)], logger: logger))
        let running = Task { try await group.run() }
        defer { running.cancel() }

        let redis = RedisConnection(configuration: config.common.redis)
        let peer = HeartbeatPublisher(
            bus: EventBus(redis: redis, namespace: config.common.namespace, source: "execution-service"),
            service: "execution-service", instance: "test", version: "test", interval: .milliseconds(500))
        let beating = Task {
            while !Task.isCancelled {
                try? await peer.beat(status: "OK")
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        let clock = ContinuousClock()
        func until(_ what: String, within: Duration, _ condition: () async -> Bool) async throws {
            let deadline = clock.now + within
            while clock.now < deadline {
                if await condition() { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("not reached within \(within): \(what)")
        }
        try await until("health OK with the peer beating", within: .seconds(10)) { await monitor.healthReport().status == .ok }

        // (A slow start may already have raised PEER_DOWN before the first beat was seen.)
        let downsBefore = monitor.alerts.sent.filter { $0.code == "PEER_DOWN" }.count
        let backsBefore = monitor.alerts.sent.filter { $0.code == "PEER_BACK" }.count
        beating.cancel()
        _ = await beating.result
        let stopped = clock.now
        try await until("a PEER_DOWN alert", within: .seconds(8)) { monitor.alerts.sent.filter { $0.code == "PEER_DOWN" }.count > downsBefore }
        let alerted = clock.now - stopped
        // Three missed beats, plus one beat for the monitor's own loop to look, plus slack.
        #expect(alerted <= .milliseconds(Int(beat * 1000 * 5)), "critical alert after \(alerted)")
        let down = try #require(monitor.alerts.sent.last { $0.code == "PEER_DOWN" })
        #expect(down.severity == .critical && down.key == "execution-service")
        let report = await monitor.healthReport()
        #expect(report.status == .degraded)

        let resumed = Task {
            while !Task.isCancelled {
                try? await peer.beat(status: "OK")
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        defer { resumed.cancel() }
        try await until("health OK again", within: .seconds(5)) { await monitor.healthReport().status == .ok }
        try await until("a PEER_BACK alert", within: .seconds(5)) { monitor.alerts.sent.filter { $0.code == "PEER_BACK" }.count > backsBefore }
        #expect(monitor.alerts.sent.last { $0.code == "PEER_BACK" }?.severity == .info)

        await group.triggerGracefulShutdown()
        _ = try? await running.value
        await redis.close()
    }
}
