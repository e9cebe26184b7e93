import ExecutionService
import ExitBrainService
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import Support
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The execution service behind its HTTP endpoints (HummingbirdTesting, in process), against a
/// Redis this test stops and starts.
@Suite("Health over HTTP", .enabled(if: TestRedis.enabled))
struct HealthHTTPTests {
    typealias Answer = (status: Int, body: String)

    @Test func healthIs200ThenRedisDownGives503ThenBackGives200() async throws {
        _ = MetricsSetup.registry  // as the command does: metrics bootstrapped once per process
        let redis = try await RedisTestServer()
        defer { redis.terminate() }
        let config = try ExecutionConfiguration(environment: [
            "REDIS_URL": "redis://127.0.0.1:\(redis.port)/0", "REDIS_NAMESPACE": "http-\(getpid())", "HEARTBEAT_INTERVAL_S": "1",
        ])
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let service = ExecutionService(config: config, version: "test", logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: logger))
        let running = Task { try await group.run() }
        defer { running.cancel() }
        let app = HTTPEndpoints.application(source: service, host: "127.0.0.1", port: 0, logger: logger)

        try await app.test(.router) { client in
            func get(_ path: String) async throws -> Answer {
                let response = try await client.execute(uri: path, method: .get)
                return (Int(response.status.code), String(buffer: response.body))
            }
            func poll(_ path: String, within: Duration, until done: (Answer) -> Bool) async throws -> Answer {
                let clock = ContinuousClock()
                let deadline = clock.now + within
                var last: Answer?
                while clock.now < deadline {
                    let answer = try await get(path)
                    if done(answer) { return answer }
                    last = answer
                    try await Task.sleep(for: .milliseconds(50))
                }
                throw TestProcess.Failure(
                    "\(path) did not reach the expected state within \(within); last: \(last.map { "\($0.status) \($0.body.prefix(300))" } ?? "none")"
                )
            }

            let up = try await poll("/health", within: .seconds(10)) { $0.status == 200 }
            let body = try #require(try JSONSerialization.jsonObject(with: Data(up.body.utf8)) as? [String: Any])
            // No monitor runs here: its heartbeat is missing, which is DEGRADED (still 200), not DOWN.
            #expect(body["status"] as? String == "DEGRADED")
            #expect(body["service"] as? String == "execution-service")
            for key in ["version", "timestamp", "uptime_seconds", "dependencies"] { #expect(body[key] != nil, "health lacks \(key)") }
            let deps = try #require(body["dependencies"] as? [String: Any])
            #expect((deps["monitoring-service"] as? [String: Any])?["status"] as? String == "DOWN")
            let redisDep = try #require(deps["redis"] as? [String: Any])
            #expect(redisDep["status"] as? String == "OK")
            #expect(redisDep["latency_ms"] is NSNumber)
            #expect((deps["eventbus"] as? [String: Any])?["status"] as? String == "OK")
            #expect(try await get("/health/live").status == 200)
            #expect(try await get("/no-such-route").status == 404)
            let post = try await client.execute(uri: "/health", method: .post)
            #expect(post.status == .methodNotAllowed && post.headers[.allow] == "GET", "read-only endpoints answer 405 with Allow: GET")
            let metrics = try await get("/metrics")
            #expect(metrics.status == 200)
            for name in ["exitbrain_plans_active", "exitbrain_redis_latency_seconds", "exitbrain_health_status"] {
                #expect(metrics.body.contains(name), "metrics lack \(name)")
            }
            if TestRedis.isCI || TestProcess.find("promtool") != nil {
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("exitbrain-metrics-\(getpid()).txt").path
                try metrics.body.write(toFile: file, atomically: true, encoding: .utf8)
                defer { unlink(file) }
                let check = try await TestProcess.run("sh", ["-c", "promtool check metrics < '\(file)'"], timeout: .seconds(60))
                #expect(check.status == 0, "promtool check metrics: \(check.output)")
            }

            let clock = ContinuousClock()
            await redis.stop()
            let stopped = clock.now
            let down = try await poll("/health", within: .seconds(10)) { $0.status == 503 }
            #expect(clock.now - stopped < .seconds(3), "DOWN reported after \(clock.now - stopped)")
            let downBody = try #require(try JSONSerialization.jsonObject(with: Data(down.body.utf8)) as? [String: Any])
            #expect(downBody["status"] as? String == "DOWN")
            #expect(try await get("/health/live").status == 200, "liveness holds while Redis is down")

            try await redis.start()
            let restarted = clock.now
            let back = try await poll("/health", within: .seconds(15)) { $0.status == 200 }
            #expect(clock.now - restarted < .seconds(5), "OK again after \(clock.now - restarted)")
            let backBody = try #require(try JSONSerialization.jsonObject(with: Data(back.body.utf8)) as? [String: Any])
            #expect(backBody["status"] as? String == "DEGRADED")
            #expect(((backBody["dependencies"] as? [String: Any])?["redis"] as? [String: Any])?["status"] as? String == "OK")
        }

        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }
}
