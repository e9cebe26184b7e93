import ExitBrainCoordination
import Foundation
import Logging
import MonitoringService
import Support
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A local HTTP receiver: answers each POST with the next status of its script (the last one
/// repeats) and keeps every body it got.
final class WebhookReceiver: Sendable {
    let port: Int
    private let fd: Int32
    private let state = Mutex<(statuses: [Int], received: [(status: Int, body: String, at: ContinuousClock.Instant)])>(([], []))

    init(statuses: [Int]) throws {
        let sock = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(sock, 16) == 0 else { throw Subprocess.Failure("cannot listen on loopback") }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sock, $0, &length) } }
        fd = sock
        port = Int(UInt16(bigEndian: actual.sin_port))
        state.withLock { $0.statuses = statuses }
        let thread = Thread { [self] in self.serve() }
        thread.start()
    }

    var received: [(status: Int, body: String, at: ContinuousClock.Instant)] { state.withLock { $0.received } }

    func close() { shutdown(fd, Int32(SHUT_RDWR)); Glibc.close(fd) }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { return }
            var request: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 8192)
            // Read the head, then Content-Length bytes of body.
            while true {
                let n = recv(client, &buffer, buffer.count, 0)
                if n <= 0 { break }
                request += buffer[0..<n]
                let text = String(decoding: request, as: UTF8.self)
                if let head = text.range(of: "\r\n\r\n") {
                    let length = text[..<head.lowerBound].split(separator: "\r\n")
                        .first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                    if text.utf8.count - text.utf8.distance(from: text.startIndex, to: head.upperBound) >= length { break }
                }
            }
            let text = String(decoding: request, as: UTF8.self)
            let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
            let status = state.withLock { s -> Int in
                let status = s.statuses.count > 1 ? s.statuses.removeFirst() : (s.statuses.first ?? 200)
                s.received.append((status, body, ContinuousClock().now))
                return status
            }
            let answer = Array("HTTP/1.1 \(status) X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
            _ = send(client, answer, answer.count, Int32(MSG_NOSIGNAL))
            Glibc.close(client)
        }
    }
}

@Suite("Alert webhook", .enabled(if: TestRedis.enabled))
struct WebhookTests {
    @Test func failingTwiceThenSucceedingGetsEachConditionOnceWhileReconcilingGoesOn() async throws {
        let receiver = try WebhookReceiver(statuses: [500, 503, 200])
        defer { receiver.close() }
        let f = try EngineFixture("webhook")
        let bus = EventBus(redis: f.redis, namespace: f.namespace, source: "monitoring-service")
        let alerts = AlertSink(bus: bus, webhook: URL(string: "http://127.0.0.1:\(receiver.port)/hook"), dedupe: .seconds(60), logger: Logger(label: "t"))
        let delivery = Task { await alerts.runDelivery() }
        defer { delivery.cancel() }
        let reconciler = Reconciler(book: RedisBook(plans: PlanStore(redis: f.redis, namespace: f.namespace, bus: bus), positions: f.positions, bus: bus), alerts: alerts,
                                    profile: .default, grace: .seconds(1), feeRate: 0.0004, logger: Logger(label: "t"))

        #expect(await alerts.raise(AlertEvent(severity: "critical", code: "PEER_DOWN", message: "execution-service missed 3 heartbeats", key: "execution-service")))
        #expect(await alerts.raise(AlertEvent(severity: "critical", code: "PEER_DOWN", message: "still down", key: "execution-service")) == false,
                "the same condition is not sent again while it lasts")
        #expect(await alerts.raise(AlertEvent(severity: "warning", code: "PLAN_WITHOUT_SL", message: "plan has no pending stop-loss leg", key: "BTCUSDT:LONG")))

        // Reconcile passes go on while the webhook fails and backs off (0.5 s, then 1 s).
        let clock = ContinuousClock()
        var passes = 0
        var passEnds: [ContinuousClock.Instant] = []
        let start = clock.now
        while !receiver.received.contains(where: { $0.status == 200 && $0.body.contains("PLAN_WITHOUT_SL") }), clock.now - start < .seconds(15) {
            try await f.redis.send("HSET", f.namespace.positions, "P\(passes)USDT:LONG", #"{"symbol":"P\#(passes)USDT","side":"LONG","quantity":1,"entry_price":10}"#)
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
        await f.cleanup()
    }
}
