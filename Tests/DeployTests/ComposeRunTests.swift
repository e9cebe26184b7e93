import Foundation
import Support
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The compose file's `execution` and `monitoring` services, started as compose would start
/// them: the same command and the same environment (as `docker-compose config` renders it
/// from `.env.example`), the binary of this build instead of the image, a local Redis with the
/// same password instead of the `redis` service, and free ports instead of 8002/8003 so that
/// the check runs beside anything else. They must come up healthy, see each other, and work
/// together: a signal gets its plan from the execution service, a position written straight
/// into Redis gets a retroactive plan from the monitor.
@Suite("Compose services run together", .serialized)
struct ComposeRunTests {
    static var binary: String? { ExitBrainBinary.path }

    /// A service's environment from `docker-compose config` output.
    static func environment(_ services: ComposeServices, _ name: String) -> [String: String] {
        var env: [String: String] = [:]
        for line in services.section(name, "environment") {
            let text = line.drop { $0 == " " }
            guard let colon = text.firstIndex(of: ":") else { continue }
            var value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("'"), value.hasSuffix("'") {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
            } else if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            env[String(text[..<colon])] = value
        }
        return env
    }

    /// Starts a compose service's command from this build's binary with its rendered
    /// environment, on a free loopback port and with the image's PATH; returns it and its port.
    static func startLocally(
        _ binary: String, _ command: [String], environment: [String: String]
    ) throws -> (
        process: TestProcess.Background, port: Int
    ) {
        var env = environment
        let port = try FreePort.find()
        env["HTTP_PORT"] = String(port)
        env["HTTP_HOST"] = "127.0.0.1"
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin"  // what the image has
        return (try TestProcess.Background(binary, command, environment: env), port)
    }

    @Test(
        "execution and monitoring, started from the compose file, are healthy and cooperate",
        .enabled(
            if: Tools.runnable("docker-compose") && (TestRedis.isCI || TestProcess.find("redis-server") != nil),
            "needs docker-compose and redis-server"))
    func composeServicesCooperate() async throws {
        _ = try #require(TestProcess.find("docker-compose"), "\(Tools.composeHint)")
        _ = try #require(TestProcess.find("redis-cli"), "\(Tools.redisHint)")
        let binary = try #require(Self.binary, "the exitbrain binary is built by `swift build --build-tests`")
        let services = try await Compose().services()

        let redis = try await RedisTestServer(password: Compose.password)
        defer { redis.terminate() }
        var started: [(name: String, process: TestProcess.Background, port: Int)] = []
        // Stopped below; on a failure before that, each one's process group is killed as `started` goes.
        var namespace = ""
        for name in ["execution", "monitoring"] {
            let command = services.entries(name, "command")
            #expect(command == [name == "execution" ? "execution" : "monitor"], "\(name) command: \(command)")
            var env = Self.environment(services, name)
            let url = try #require(env["REDIS_URL"], "\(name) has no REDIS_URL")
            #expect(url == "redis://:\(Compose.password)@redis:6379/0", "\(name) REDIS_URL")
            env["REDIS_URL"] = url.replacingOccurrences(of: "@redis:6379/", with: "@127.0.0.1:\(redis.port)/")
            namespace = try #require(env["REDIS_NAMESPACE"])
            let (process, port) = try Self.startLocally(binary, command, environment: env)
            started.append((name, process, port))
        }

        // Both answer and, once each sees the other's heartbeats, report OK.
        let clock = ContinuousClock()
        for s in started {
            let deadline = clock.now + .seconds(30)
            var last = ""
            while clock.now < deadline {
                #expect(s.process.isRunning, "\(s.name) exited:\n\(s.process.output)")
                if !s.process.isRunning { return }
                if let answer = try? await LoopbackHTTP.get(port: s.port, "/health") {
                    last = "\(answer.status) \(answer.body)"
                    if answer.status == 200, answer.body.contains("\"status\":\"OK\"") { break }
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(last.hasPrefix("200") && last.contains("\"status\":\"OK\""), "\(s.name) not healthy: \(last)\n\(s.process.output.suffix(2000))")
        }

        func cli(_ args: String...) async throws -> String {
            let r = try await TestProcess.run(
                "redis-cli", ["-p", String(redis.port), "--no-auth-warning", "-a", Compose.password] + args, timeout: .seconds(20))
            #expect(r.status == 0, "redis-cli \(args.first ?? ""): \(r.output)")
            return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func eventually(_ what: String, within: Duration, _ check: () async throws -> Bool) async throws {
            let deadline = clock.now + within
            while clock.now < deadline {
                if try await check() { return }
                try await Task.sleep(for: .milliseconds(200))
            }
            Issue.record("not within \(within): \(what)")
        }

        // `exitbrain signal`, with the services' REDIS_URL and REDIS_NAMESPACE: the execution
        // service fills it and stores the plan; `exitbrain plans` shows it.
        var toolEnv = ProcessInfo.processInfo.environment
        toolEnv["REDIS_URL"] = "redis://:\(Compose.password)@127.0.0.1:\(redis.port)/0"
        toolEnv["REDIS_NAMESPACE"] = namespace
        let sent = try await TestProcess.run(
            binary, ["signal", "BTCUSDT", "BUY", "--quantity", "0.01", "--leverage", "10", "--price", "50000"],
            environment: toolEnv, timeout: .seconds(30))
        #expect(sent.status == 0, "exitbrain signal: \(sent.output)")
        #expect(!sent.output.contains(Compose.password), "the password is never printed")
        try await eventually("a plan for BTCUSDT:LONG", within: .seconds(10)) {
            try await cli("HGET", "\(namespace):exit:plans", "BTCUSDT:LONG").contains("\"source\":\"EXECUTION\"")
        }
        let table = try await TestProcess.run(binary, ["plans", "BTCUSDT"], environment: toolEnv, timeout: .seconds(30))
        #expect(table.status == 0 && table.output.contains("BTCUSDT") && table.output.contains("SL"), "exitbrain plans:\n\(table.output)")
        #expect(!table.output.contains(Compose.password), "the password is never printed")
        // Its stop rests at the venue as soon as the plan exists: `exitbrain orders` and GET /orders show it.
        try await eventually("the BTCUSDT:LONG stop resting at the venue", within: .seconds(10)) {
            let orders = try await TestProcess.run(binary, ["orders", "BTCUSDT", "--working"], environment: toolEnv, timeout: .seconds(30))
            return orders.status == 0 && orders.output.contains("STOP_MARKET") && orders.output.contains(" NEW ")
        }
        let execution = try #require(started.first { $0.name == "execution" })
        let orders = try await LoopbackHTTP.get(port: execution.port, "/orders/BTCUSDT")
        #expect(
            orders.status == 200 && orders.body.contains("\"type\":\"STOP_MARKET\"") && orders.body.contains("\"purpose\":\"ENTRY\""),
            "\(orders.body)")

        // A position written straight into Redis: the monitor gives it a plan within its interval.
        let position = #"{"symbol":"ETHUSDT","side":"SHORT","quantity":0.5,"entry_price":3000,"mark_price":3000,"leverage":5}"#
        _ = try await cli("HSET", "\(namespace):positions", "ETHUSDT:SHORT", position)
        let interval = Double(Self.environment(services, "monitoring")["MONITOR_INTERVAL_S"] ?? "5") ?? 5
        try await eventually("a retroactive plan for ETHUSDT:SHORT", within: .seconds(Int(interval * 2) + 5)) {
            try await cli("HGET", "\(namespace):exit:plans", "ETHUSDT:SHORT").contains("\"source\":\"RETROACTIVE\"")
        }
        // The execution service picks the monitor's plan up and manages it: a price through its
        // stop-loss closes it.
        let stop =
            #"{"id":"compose-check-2","type":"market.tick","source":"compose-check","ts":"2026-11-25T18:38:25.123Z","data":{"symbol":"ETHUSDT","price":3300}}"#
        try await Task.sleep(for: .seconds(3))  // the execution service's resync (every 2 s)
        _ = try await cli("PUBLISH", "\(namespace):events:market.tick", stop)
        try await eventually("ETHUSDT:SHORT closed by its stop-loss", within: .seconds(10)) {
            try await cli("HEXISTS", "\(namespace):exit:plans", "ETHUSDT:SHORT") == "0"
        }

        // Every metric the dashboard uses is exported by one of the two.
        var exported = Set<String>()
        for s in started {
            let metrics = try await LoopbackHTTP.get(port: s.port, "/metrics")
            #expect(metrics.status == 200)
            for line in metrics.body.split(separator: "\n") where !line.hasPrefix("#") {
                exported.insert(metricFamily(String(line.prefix { $0 != "{" && $0 != " " })))
            }
        }
        let dashboard = try Repo.read("deploy/grafana/dashboards/exitbrain.json")
        let used = Set(dashboard.matches(of: try Regex("exitbrain_[a-z_]+")).map { metricFamily(String(dashboard[$0.range])) })
        for name in used.sorted() { #expect(exported.contains(name), "the dashboard uses \(name); the running services do not export it") }

        for s in started {
            let status = await s.process.stop()
            #expect(status == 0, "\(s.name) did not stop cleanly on SIGTERM (status \(status)):\n\(s.process.output.suffix(2000))")
        }
        started = []
    }
}

/// The compose file's `sim` profile, started as compose would start it: `venue-sim` with its
/// command (on a free loopback port instead of 9100), and `execution-sim` and `monitoring-sim`
/// with their environment (the simulator's address and a local Redis instead of the compose
/// network's): healthy, EXCHANGE=binance, a signal's plan resting at the simulator.
@Suite("Compose sim profile", .serialized)
struct ComposeSimProfileTests {
    @Test(
        .enabled(
            if: Tools.runnable("docker-compose") && (TestRedis.isCI || TestProcess.find("redis-server") != nil),
            "needs docker-compose and redis-server"))
    func theSimProfileTradesOnTheSimulator() async throws {
        let binary = try #require(ComposeRunTests.binary, "the exitbrain binary is built by `swift build --build-tests`")
        let services = try await Compose().services(profiles: ["sim"])
        let redis = try await RedisTestServer(password: Compose.password)
        defer { redis.terminate() }

        var command = services.entries("venue-sim", "command")
        #expect(command.first == "venue-sim" && command.contains("--hedge"), "\(command)")
        let simPort = try FreePort.find()
        if let i = command.firstIndex(of: "--port") { command[i + 1] = String(simPort) }
        if let i = command.firstIndex(of: "--host") { command[i + 1] = "127.0.0.1" }
        var simEnv = ComposeRunTests.environment(services, "venue-sim")
        simEnv["PATH"] = "/usr/local/bin:/usr/bin:/bin"
        let sim = try TestProcess.Background(binary, command, environment: simEnv)
        _ = try await LoopbackHTTP.poll(port: simPort, "/fapi/v1/ping", until: { $0.status == 200 }, within: .seconds(15))

        var started: [(name: String, process: TestProcess.Background, port: Int)] = []
        for (name, verb) in [("execution-sim", "execution"), ("monitoring-sim", "monitor")] {
            #expect(services.entries(name, "command") == [verb])
            var env = ComposeRunTests.environment(services, name)
            env["REDIS_URL"] = env["REDIS_URL"]?.replacingOccurrences(of: "@redis:6379/", with: "@127.0.0.1:\(redis.port)/")
            for key in ["BINANCE_REST_URL", "BINANCE_WS_URL"] {
                env[key] = env[key]?.replacingOccurrences(of: "venue-sim:9100", with: "127.0.0.1:\(simPort)")
            }
            if name == "execution-sim" {
                #expect(env["EXCHANGE"] == "binance" && env["BINANCE_API_KEY"] == simEnv["VENUE_SIM_API_KEY"], "the stack trades on the simulator")
            }
            let (process, port) = try ComposeRunTests.startLocally(binary, [verb], environment: env)
            started.append((name, process, port))
        }
        for s in started {
            let answer = try await LoopbackHTTP.poll(
                port: s.port, "/health", until: { $0.status == 200 && $0.body.contains(#""status":"OK""#) }, within: .seconds(30))
            #expect(answer.status == 200, "\(s.name): \(answer.body)\n\(s.process.output.suffix(2000))")
        }
        let execution = try #require(started.first)
        #expect(try await LoopbackHTTP.get(port: execution.port, "/health").body.contains(#""kind":"binance""#))

        var toolEnv = ProcessInfo.processInfo.environment
        toolEnv["REDIS_URL"] = "redis://:\(Compose.password)@127.0.0.1:\(redis.port)/0"
        toolEnv["REDIS_NAMESPACE"] = "sim"
        let sent = try await TestProcess.run(
            binary, ["signal", "BTCUSDT", "BUY", "--quantity", "0.01", "--leverage", "10"], environment: toolEnv, timeout: .seconds(30))
        #expect(sent.status == 0, "\(sent.output)")
        let control = SimulatorControl(port: simPort, apiKey: simEnv["VENUE_SIM_API_KEY"] ?? "", apiSecret: simEnv["VENUE_SIM_API_SECRET"] ?? "")
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(15)
        var resting = 0
        while clock.now < deadline {
            resting = (try? await control.state().open_algo_orders.filter { $0.symbol == "BTCUSDT" }.count) ?? 0
            if resting == 4 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(resting == 4, "the signal's SL and three TPs rest at the simulator")
        for s in started { #expect(await s.process.stop() == 0, "\(s.name) stops cleanly") }
        _ = await sim.stop()
    }
}

/// `exitbrain demo --duration`: its own Redis, both services, the feed; exits 0 by itself and
/// leaves nothing running.
@Suite("Demo")
struct DemoTests {
    @Test(
        "exitbrain demo --duration runs, shows plans, exits 0 and leaves no Redis behind",
        .enabled(if: TestRedis.isCI || TestProcess.find("redis-server") != nil, "needs redis-server"))
    func demoRunsAndStopsByItself() async throws {
        let binary = try #require(ComposeRunTests.binary, "the exitbrain binary is built by `swift build --build-tests`")
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "REDIS_URL")
        env["LOG_LEVEL"] = "warning"
        let ports = (try FreePort.find(), try FreePort.find())
        let run = try await TestProcess.run(
            binary,
            [
                "demo", "--duration", "12", "--signal-every-s", "1", "--summary-every-s", "2",
                "--execution-port", String(ports.0), "--monitor-port", String(ports.1),
            ],
            environment: env, timeout: .seconds(90))
        #expect(run.status == 0, "demo exited \(run.status):\n\(run.output.suffix(3000))")
        #expect(run.output.contains("ExitBrain demo: redis"))
        #expect(run.output.contains("curl -s http://127.0.0.1:\(ports.0)/health"))
        #expect(run.output.contains("demo stopped"))
        // The summaries show plans being made.
        let counts = run.output.split(separator: "\n").compactMap { line -> Int? in
            guard let r = line.range(of: "  plans ") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }
        #expect(counts.contains { $0 > 0 }, "no summary showed a plan:\n\(run.output.suffix(3000))")
        // Its Redis is gone with it.
        let line = try #require(run.output.split(separator: "\n").first { $0.contains("plans:    redis-cli") })
        let words = line.split(separator: " ")
        let port = try #require(words.firstIndex(of: "-p").map { words[words.index(after: $0)] })
        if let cli = TestProcess.find("redis-cli") {
            let ping = try await TestProcess.run(cli, ["-p", String(port), "PING"], timeout: .seconds(10))
            #expect(!ping.output.contains("PONG"), "the demo's redis-server on \(port) still answers")
        }
    }
}
