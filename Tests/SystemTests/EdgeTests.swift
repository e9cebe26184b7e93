import ExitBrainCoordination
import Foundation
import RedisClient
import Support
import Testing

/// Bad environment, bad HTTP, wrong passwords, secrets, ACL users.
@Suite(
    "Bad input at the edges and security", .serialized, .enabled(if: TestRedis.isCI || TestProcess.find("redis-server") != nil, "needs redis-server"))
struct EdgeTests {
    static let badEnvironment: [(service: String, variable: String, value: String)] = [
        ("execution", "REDIS_URL", "ftp://127.0.0.1:6379"),
        ("execution", "REDIS_NAMESPACE", "bad namespace!"),
        ("execution", "HTTP_PORT", "70000"),
        ("execution", "HEARTBEAT_INTERVAL_S", "0"),
        ("execution", "LOG_LEVEL", "loud"),
        ("execution", "LOG_FORMAT", "xml"),
        ("execution", "EXIT_MODE", "SOMETIMES"),
        ("execution", "EXIT_EXECUTOR_MODE", "maybe"),
        ("execution", "EXIT_BRAIN_V3_LIVE_ROLLOUT", "HALF"),
        ("execution", "EXIT_LIVE_ROLLOUT_PCT", "150"),
        ("execution", "EXIT_EXECUTOR_KILL_SWITCH", "perhaps"),
        ("execution", "EXIT_BRAIN_PROFILE", "YOLO"),
        ("execution", "PAPER_FEE_RATE", "abc"),
        ("execution", "REDIS_SENTINELS", "sentinel-without-port"),
        ("monitor", "REDIS_SENTINELS", "127.0.0.1:99999"),
        ("execution", "EXECUTION_BUCKETS", "0"),
        ("monitor", "EXECUTION_BUCKETS", "many"),
        ("execution", "LEASE_TTL_S", "0.1"),
        ("monitor", "LEASE_TTL_S", "abc"),
        ("execution", "REDIS_WAIT_MS", "-5"),
        ("monitor", "MONITOR_INTERVAL_S", "0"),
        ("monitor", "ALERT_WEBHOOK_URL", "ftp://example.com/hook"),
        ("monitor", "ALERT_DEDUPE_S", "-1"),
    ]

    @Test func eachBadEnvironmentValueExits78WithOneLineNamingIt() async throws {
        let binary = try #require(ExitBrainBinary.path)
        for bad in Self.badEnvironment {
            var env = ["PATH": "/usr/bin:/bin", "REDIS_URL": "redis://127.0.0.1:1/0"]
            env[bad.variable] = bad.value
            let run = try await TestProcess.run(binary, [bad.service], environment: env, timeout: .seconds(30))
            let lines = run.output.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            #expect(run.status == 78, "\(bad.variable)=\(bad.value): exit \(run.status)\n\(run.output)")
            #expect(lines.count == 1, "\(bad.variable)=\(bad.value): \(lines.count) lines\n\(run.output)")
            #expect(run.output.contains(bad.variable), "\(bad.variable)=\(bad.value): \(run.output)")
        }
    }

    @Test func unknownRoutesWrongMethodsAndOversizedRequestsAreRefusedAndTheServiceGoesOn() async throws {
        let f = try await SystemFixture("edge-http")
        let execution = try f.start(.execution)
        try await execution.waitHealth(200, within: .seconds(20))
        #expect(try await execution.get("/nope").status == 404)
        #expect(try await execution.get("/health/../../etc/passwd").status == 404)
        let post = try await LoopbackHTTP.raw(
            port: execution.port, Array("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".utf8))
        #expect(post == 405, "POST /health answered \(post.map(String.init) ?? "nothing")")
        let hugeHeader = "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 200_000) + "\r\nConnection: close\r\n\r\n"
        let header = try await LoopbackHTTP.raw(port: execution.port, Array(hugeHeader.utf8))
        #expect(header != 200, "a 200 KB header must be refused, got \(header.map(String.init) ?? "a closed connection")")
        var bigBody = Array("POST /plans HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\nConnection: close\r\n\r\n".utf8)
        bigBody += [UInt8](repeating: 0x41, count: 2_000_000)
        let body = try await LoopbackHTTP.raw(port: execution.port, bigBody)
        #expect(body != 200, "a 20 MB body must be refused, got \(body.map(String.init) ?? "a closed connection")")
        #expect(execution.isRunning)
        #expect(try await execution.get("/health").status == 200, "unharmed")
        await f.stopAll()
    }

    @Test func wrongPasswordIsAnAuthErrorAndDownNotACrashAndNoSecretIsEverShown() async throws {
        let password = "s3cret-\(UUID().uuidString.prefix(8))"
        let f = try await SystemFixture("edge-auth", password: password)
        let wrong = "wr0ng-\(UUID().uuidString.prefix(8))"
        let refused = try f.start(.execution, ["REDIS_URL": "redis://:\(wrong)@127.0.0.1:\(f.redis.port)/0"])
        let down = try await LoopbackHTTP.poll(port: refused.port, "/health", until: { $0.status == 503 }, within: .seconds(20))
        #expect(down.body.lowercased().contains("auth"), "health names the auth failure: \(down.body)")
        try await Task.sleep(for: .seconds(1))
        #expect(refused.isRunning, "a wrong password is not a crash")

        let execution = try f.start(.execution)
        let monitor = try f.start(.monitor)
        try await execution.waitHealth(200, within: .seconds(20))
        try await monitor.waitHealth(200, within: .seconds(20))
        try await f.publish(.tradeSignal, f.signalJSON("SECUSDT", "BUY"))
        try await f.eventually("a plan", within: .seconds(10)) { try await f.plan("SECUSDT:LONG") != nil }
        for service in [refused, execution, monitor] {
            for path in ["/health", "/metrics", "/plans"] {
                let body = try await service.get(path).body
                #expect(!body.contains(password) && !body.contains(wrong), "\(service.kind) \(path) shows a password")
            }
            let cmdline = (try? String(contentsOfFile: "/proc/\(service.pid)/cmdline", encoding: .utf8)) ?? ""
            #expect(!cmdline.contains(password) && !cmdline.contains(wrong), "the process arguments show a password")
        }
        for service in [refused, execution, monitor] { await service.stop() }
        for service in [refused, execution, monitor] {
            #expect(!service.output.contains(password) && !service.output.contains(wrong), "\(service.kind) logged a password")
            #expect(!service.output.isEmpty)
        }
        #expect(refused.output.lowercased().contains("auth"), "the log says why Redis refused")
        await f.stopAll()
    }

    @Test func anACLUserPerServiceConfinedToTheNamespaceIsEnough() async throws {
        let f = try await SystemFixture("edge-acl", password: "admin-\(UUID().uuidString.prefix(8))")
        let ns = f.namespace.prefix
        for (user, secret) in [("execution", "exec-pw-1"), ("monitoring", "mon-pw-2")] {
            let r = try await f.conn.send(
                "ACL", "SETUSER", user, "reset", "on", ">\(secret)", "~\(ns):*", "&\(ns):*", "+@all", "-@admin", "-@dangerous")
            #expect(r.string == "OK")
        }
        let execution = try f.start(.execution, ["REDIS_URL": "redis://execution:exec-pw-1@127.0.0.1:\(f.redis.port)/0"])
        let monitor = try f.start(.monitor, ["REDIS_URL": "redis://monitoring:mon-pw-2@127.0.0.1:\(f.redis.port)/0"])
        try await execution.waitHealth(200, word: "OK", within: .seconds(20))
        try await monitor.waitHealth(200, word: "OK", within: .seconds(20))
        try await f.publish(.tradeSignal, f.signalJSON("ACLUSDT", "BUY"))
        try await f.eventually("a plan made under the execution user", within: .seconds(10)) { try await f.plan("ACLUSDT:LONG") != nil }
        try await f.conn.send("HSET", f.namespace.positions, "ORPHUSDT:LONG", #"{"symbol":"ORPHUSDT","side":"LONG","quantity":1,"entry_price":10}"#)
        try await f.eventually("a retroactive plan made under the monitoring user", within: .seconds(10)) {
            try await f.plan("ORPHUSDT:LONG")?.source == .retroactive
        }
        // Outside the namespace the users can do nothing.
        var config = f.redis.configuration()
        config.username = "execution"
        config.password = "exec-pw-1"
        let confined = RedisConnection(configuration: config)
        do {
            _ = try await confined.send("GET", "other:key")
            Issue.record("the execution user read a key outside its namespace")
        } catch {
            #expect(error.message.contains("NOPERM"), "\(error)")
        }
        await confined.close()
        await f.stopAll()
    }
}
