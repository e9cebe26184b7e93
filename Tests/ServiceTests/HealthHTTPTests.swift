import ExecutionService
import ExitBrainService
import Foundation
import Logging
import RedisClient
import ServiceLifecycle
import Support
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The execution service behind its HTTP endpoints, against a Redis this test stops and starts.
@Suite("Health over HTTP", .enabled(if: TestRedis.enabled))
struct HealthHTTPTests {
    @Test func healthIs200ThenRedisDownGives503ThenBackGives200() async throws {
        _ = MetricsSetup.registry // as the command does: metrics bootstrapped once per process
        let redis = try RedisTestServer()
        defer { redis.stop() }
        let port = try RedisServerProcess.freePort()
        let config = try ExecutionConfiguration(environment: [
            "REDIS_URL": "redis://127.0.0.1:\(redis.port)/0", "REDIS_NAMESPACE": "http-\(getpid())",
            "HTTP_HOST": "127.0.0.1", "HTTP_PORT": String(port), "HEARTBEAT_INTERVAL_S": "1",
        ])
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let service = ExecutionService(config: config, version: "test", logger: logger)
        let http = HTTPEndpoints.application(source: service, host: "127.0.0.1", port: port, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: service), .init(service: http)], logger: logger))
        let running = Task { try await group.run() }
        defer { running.cancel() }

        let up = try await HTTP.poll(port: port, "/health", until: { $0.status == 200 }, within: .seconds(10))
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
        #expect(try HTTP.get(port: port, "/health/live").status == 200)
        #expect(try HTTP.get(port: port, "/no-such-route").status == 404)
        let metrics = try HTTP.get(port: port, "/metrics")
        #expect(metrics.status == 200)
        for name in ["exitbrain_plans_active", "exitbrain_redis_latency_seconds", "exitbrain_health_status"] {
            #expect(metrics.body.contains(name), "metrics lack \(name)")
        }
        if TestRedis.isCI || Subprocess.find("promtool") != nil {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("exitbrain-metrics-\(getpid()).txt").path
            try metrics.body.write(toFile: file, atomically: true, encoding: .utf8)
            defer { unlink(file) }
            let check = try Subprocess.run("sh", ["-c", "promtool check metrics < '\(file)'"], timeout: .seconds(60))
            #expect(check.status == 0, "promtool check metrics: \(check.output)")
        }

        let clock = ContinuousClock()
        redis.stop()
        let stopped = clock.now
        let down = try await HTTP.poll(port: port, "/health", until: { $0.status == 503 }, within: .seconds(10))
        #expect(clock.now - stopped < .seconds(3), "DOWN reported after \(clock.now - stopped)")
        let downBody = try #require(try JSONSerialization.jsonObject(with: Data(down.body.utf8)) as? [String: Any])
        #expect(downBody["status"] as? String == "DOWN")
        #expect(try HTTP.get(port: port, "/health/live").status == 200, "liveness holds while Redis is down")

        try redis.start()
        let restarted = clock.now
        let back = try await HTTP.poll(port: port, "/health", until: { $0.status == 200 }, within: .seconds(15))
        #expect(clock.now - restarted < .seconds(5), "OK again after \(clock.now - restarted)")
        let backBody = try #require(try JSONSerialization.jsonObject(with: Data(back.body.utf8)) as? [String: Any])
        #expect(backBody["status"] as? String == "DEGRADED")
        #expect(((backBody["dependencies"] as? [String: Any])?["redis"] as? [String: Any])?["status"] as? String == "OK")

        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }
}

/// A minimal HTTP/1.1 client for loopback tests.
enum HTTP {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func get(port: Int, _ path: String) throws -> (status: Int, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        defer { close(fd) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { throw Failure(description: "connect to \(port) failed") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { throw Failure(description: "send failed") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let line = text.split(separator: "\r\n").first, let status = Int(line.split(separator: " ").dropFirst().first ?? "") else {
            throw Failure(description: "no HTTP answer on \(port)\(path): \(text.prefix(200))")
        }
        var body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        if text.lowercased().contains("transfer-encoding: chunked") { body = dechunk(body) }
        return (status, body)
    }

    static func poll(port: Int, _ path: String, until done: ((status: Int, body: String)) -> Bool, within: Duration) async throws -> (status: Int, body: String) {
        let clock = ContinuousClock()
        let deadline = clock.now + within
        var last: (status: Int, body: String)?
        while clock.now < deadline {
            if let answer = try? get(port: port, path) {
                last = answer
                if done(answer) { return answer }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "\(path) on \(port) did not reach the expected state within \(within); last: \(last.map { "\($0.status) \($0.body.prefix(300))" } ?? "no answer")")
    }

    static func dechunk(_ body: String) -> String {
        var out = ""
        var rest = Substring(body)
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let bytes = Array(rest[start...].utf8)
            out += String(decoding: bytes.prefix(size), as: UTF8.self)
            rest = Substring(String(decoding: bytes.dropFirst(size + 2), as: UTF8.self))
        }
        return out
    }
}
