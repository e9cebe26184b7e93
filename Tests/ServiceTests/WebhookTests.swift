import ExitBrainCoordination
import Foundation
import Logging
import MonitoringService
import Support
import Testing

@Suite("Alert webhook", .enabled(if: TestRedis.enabled))
struct WebhookTests {
    @Test func failingTwiceThenSucceedingGetsEachConditionOnceWhileReconcilingGoesOn() async throws {
        let receiver = try await RecordingHTTPServer.start(statuses: [500, 503, 200])
        let f = try await EngineFixture("webhook")
        let bus = EventBus(redis: f.redis, namespace: f.namespace, source: "monitoring-service")
        let alerts = AlertSink(
            bus: bus, settings: AlertSettings(webhook: URL(string: "http://127.0.0.1:\(receiver.port)/hook"), dedupe: .seconds(60)),
            logger: Logger(label: "t"))
        let delivery = Task { await alerts.runDelivery() }
        let reconciler = Reconciler(
            book: RedisBook(plans: PlanStore(redis: f.redis, namespace: f.namespace, bus: bus), positions: f.positions, bus: bus), alerts: alerts,
            profile: .default, grace: .seconds(1), feeRate: 0.0004, logger: Logger(label: "t"))

        #expect(
            await alerts.raise(
                AlertEvent(severity: .critical, code: "PEER_DOWN", message: "execution-service missed 3 heartbeats", key: "execution-service")))
        #expect(
            await alerts.raise(AlertEvent(severity: .critical, code: "PEER_DOWN", message: "still down", key: "execution-service")) == false,
            "the same condition is not sent again while it lasts")
        #expect(
            await alerts.raise(
                AlertEvent(severity: .warning, code: "PLAN_WITHOUT_SL", message: "plan has no pending stop-loss leg", key: "BTCUSDT:LONG")))

        // Reconcile passes go on while the webhook fails and backs off (0.5 s, then 1 s).
        let clock = ContinuousClock()
        var passes = 0
        var passEnds: [ContinuousClock.Instant] = []
        let start = clock.now
        while !receiver.received.contains(where: { $0.status == 200 && $0.body.contains("PLAN_WITHOUT_SL") }), clock.now - start < .seconds(15) {
            try await f.redis.send(
                "HSET", f.namespace.positions, "P\(passes)USDT:LONG", #"{"symbol":"P\#(passes)USDT","side":"LONG","quantity":1,"entry_price":10}"#)
            let r = try await reconciler.pass()
            #expect(r.created == 1, "pass \(passes) created the new position's plan")
            passEnds.append(clock.now)
            passes += 1
            try await Task.sleep(for: .milliseconds(50))
        }
        let got = receiver.received
        // The queue is first in, first out: the two conditions come first, then the passes' own
        // retroactive-plan alerts.
        #expect(Array(got.map(\.status).prefix(4)) == [500, 503, 200, 200], "\(got.map(\.status))")
        #expect(got[0].body == got[2].body, "the failed body is the one retried")
        let delivered = got.filter { $0.status == 200 }.map(\.body)
        #expect(delivered.filter { $0.contains("PEER_DOWN") }.count == 1)
        #expect(delivered.filter { $0.contains("PLAN_WITHOUT_SL") }.count == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(delivered[0].utf8)) as? [String: String])
        #expect(json.keys.sorted() == ["text"])
        let text = try #require(json["text"])
        for part in ["CRITICAL", "PEER_DOWN", "execution-service", "missed 3 heartbeats"] { #expect(text.contains(part), "\(text)") }
        // Between the first refused delivery and the accepted one, passes kept completing.
        let during = passEnds.filter { $0 > got[0].at && $0 < got[2].at }.count
        #expect(during >= 3, "\(during) passes completed while the webhook was failing")
        #expect(alerts.delivered >= 2)
        delivery.cancel()
        await receiver.close()
        await f.cleanup()
    }
}
