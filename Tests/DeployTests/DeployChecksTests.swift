import Foundation
import Support
import Testing

/// The metric names the services export. The dashboard may use only these; a later check
/// compares this list with the real `/metrics` output of both services.
let exportedMetricNames: Set<String> = [
    "exitbrain_plans_active",
    "exitbrain_plans_created_total",
    "exitbrain_plans_closed_total",
    "exitbrain_signals_total",
    "exitbrain_events_rejected_total",
    "exitbrain_orders_total",
    "exitbrain_fills_total",
    "exitbrain_legs_triggered_total",
    "exitbrain_redis_latency_seconds",
    "exitbrain_eventbus_roundtrip_seconds",
    "exitbrain_loop_lag_seconds",
    "exitbrain_health_status",
    "exitbrain_reconcile_duration_seconds",
    "exitbrain_reconcile_positions",
    "exitbrain_retroactive_plans_total",
    "exitbrain_stale_plans_closed_total",
    "exitbrain_alerts_total",
]

/// The metric family of a sample name: `_bucket`, `_sum` and `_count` belong to their histogram.
func metricFamily(_ name: String) -> String {
    if exportedMetricNames.contains(name) { return name }
    for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
        return String(name.dropLast(suffix.count))
    }
    return name
}

/// Paths in the repository, found from this file's location.
enum Repo {
    /// Tests/DeployTests/DeployChecksTests.swift -> the repository root.
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func path(_ relative: String) -> String { root + "/" + relative }

    static func read(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }
}

/// Tools the checks run. Missing ones skip the check locally and fail it under CI.
enum Tools {
    static func runnable(_ name: String) -> Bool { TestRedis.isCI || TestProcess.find(name) != nil }

    static let composeHint = "docker-compose is not installed (Debian: apt-get install docker-compose; scripts/setup.sh installs it)"
    static let promtoolHint = "promtool is not installed (Debian: apt-get install prometheus; scripts/setup.sh installs it)"
    static let redisHint = "redis-server and redis-cli are needed (Debian: apt-get install redis-server redis-tools)"
}

/// A temporary folder removed when the value goes away.
final class TemporaryDirectory {
    let path: String
    init(_ label: String) throws {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("exitbrain-\(label)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs `docker-compose` on the repository's compose file with a temporary env file made
/// from `.env.example`, and with nothing of the caller's own compose settings.
struct Compose {
    static let password = "pw-compose-check-7f3a91"
    let directory: TemporaryDirectory
    let envFile: String

    /// `envContents` nil: `.env.example` with `REDIS_PASSWORD` set to `password`.
    init(envContents: String? = nil) throws {
        directory = try TemporaryDirectory("compose")
        envFile = directory.path + "/compose.env"
        var contents = envContents
        if contents == nil {
            let example = try Repo.read(".env.example")
            let lines = example.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.contains { $0.hasPrefix("REDIS_PASSWORD=") }, ".env.example must set REDIS_PASSWORD")
            #expect(lines.contains { $0.hasPrefix("REDIS_NAMESPACE=") }, ".env.example must set REDIS_NAMESPACE")
            contents = lines.map { $0.hasPrefix("REDIS_PASSWORD=") ? "REDIS_PASSWORD=\(Self.password)" : String($0) }
                .joined(separator: "\n")
        }
        try contents!.write(toFile: envFile, atomically: true, encoding: .utf8)
    }

    /// `docker-compose [--profile P …] config`, parsed; a file that does not render fails the test.
    func services(profiles: [String] = []) async throws -> ComposeServices {
        let rendered = try await run(profiles.flatMap { ["--profile", $0] } + ["config"])
        try #require(rendered.status == 0, "\(rendered.output)")
        return ComposeServices(config: rendered.output)
    }

    func run(_ args: [String]) async throws -> (status: Int32, output: String) {
        var env = ProcessInfo.processInfo.environment
        for key in [
            "REDIS_PASSWORD", "REDIS_NAMESPACE", "GRAFANA_ADMIN_PASSWORD", "COMPOSE_FILE",
            "COMPOSE_PROFILES", "COMPOSE_PROJECT_NAME", "COMPOSE_PATH_SEPARATOR",
        ] {
            env.removeValue(forKey: key)
        }
        return try await TestProcess.run(
            "docker-compose",
            ["-f", Repo.path("docker-compose.yml"), "--project-directory", Repo.root, "--env-file", envFile] + args,
            environment: env, timeout: .seconds(120))
    }
}

/// The services of `docker-compose config` output (PyYAML's block style, two-space indent),
/// each as its lines; enough to look at ports, commands and profiles without a YAML library.
struct ComposeServices {
    /// service name -> its lines, indentation kept.
    var blocks: [String: [Substring]] = [:]

    init(config: String) {
        var inServices = false
        var current: String?
        for line in config.split(separator: "\n") {
            let indent = line.prefix { $0 == " " }.count
            if indent == 0 {
                inServices = line == "services:"
                current = nil
                continue
            }
            guard inServices else { continue }
            if indent == 2, line.hasSuffix(":") {
                let name = String(line.dropFirst(2).dropLast())
                current = name
                blocks[name] = []
            } else if let current {
                blocks[current, default: []].append(line)
            }
        }
    }

    /// The lines under `key:` (at four spaces) of a service, up to the next key at that level.
    /// For a one-line value, that line.
    func section(_ service: String, _ key: String) -> [Substring] {
        guard let lines = blocks[service] else { return [] }
        var out: [Substring] = []
        var inside = false
        for line in lines {
            let indent = line.prefix { $0 == " " }.count
            let text = line.dropFirst(indent)
            if indent == 4, !text.hasPrefix("- ") {
                if inside { break }
                if text == "\(key):" {
                    inside = true
                    continue
                }
                if text.hasPrefix("\(key): ") { return [line] }
                continue
            }
            if inside { out.append(line) }
        }
        return out
    }

    /// List entries of a section: each `- ` item with its continuation lines joined.
    func entries(_ service: String, _ key: String) -> [String] {
        var items: [String] = []
        for line in section(service, key) {
            let text = line.drop { $0 == " " }
            if text.hasPrefix("- ") {
                var item = String(text.dropFirst(2))
                // PyYAML quotes what would read as a number: '9100' is the string 9100.
                if item.count >= 2, item.hasPrefix("'"), item.hasSuffix("'") { item = String(item.dropFirst().dropLast()) }
                items.append(item)
            } else if !items.isEmpty {
                items[items.count - 1] += " " + String(text)
            }
        }
        return items
    }
}

@Suite("Deployment files", .serialized)
struct DeployChecksTests {
    // (a) docker-compose accepts the file, with and without the monitoring profile.
    @Test("docker-compose config accepts docker-compose.yml", .enabled(if: Tools.runnable("docker-compose"), "needs docker-compose"))
    func composeConfigIsValid() async throws {
        _ = try #require(TestProcess.find("docker-compose"), "\(Tools.composeHint)")
        let compose = try Compose()

        let plain = try await compose.run(["config", "-q"])
        #expect(plain.status == 0, "docker-compose config -q failed:\n\(plain.output)")
        let monitoring = try await compose.run(["--profile", "monitoring", "config", "-q"])
        #expect(monitoring.status == 0, "docker-compose --profile monitoring config -q failed:\n\(monitoring.output)")
        let sim = try await compose.run(["--profile", "sim", "config", "-q"])
        #expect(sim.status == 0, "docker-compose --profile sim config -q failed:\n\(sim.output)")
        let ha = try await compose.run(["--profile", "ha", "config", "-q"])
        #expect(ha.status == 0, "docker-compose --profile ha config -q failed:\n\(ha.output)")

        let services = try await compose.run(["config", "--services"])
        #expect(services.status == 0, "\(services.output)")
        let names = Set(services.output.split(separator: "\n").map { String($0) })
        #expect(
            names == [
                "redis", "execution", "monitoring", "feed", "prometheus", "grafana", "venue-sim", "execution-sim", "monitoring-sim", "feed-sim",
                "redis-ha-1", "redis-ha-2", "redis-ha-3", "sentinel-1", "sentinel-2", "sentinel-3", "execution-ha-1", "execution-ha-2",
                "monitoring-ha",
            ], "services: \(names.sorted())")

        // Without REDIS_PASSWORD the file refuses to render and says where to set it.
        let bare = try await Compose(envContents: "REDIS_NAMESPACE=quantum\n").run(["config", "-q"])
        #expect(bare.status != 0, "config must fail without REDIS_PASSWORD")
        #expect(bare.output.contains(".env.example"), "the error should point at .env.example:\n\(bare.output)")
    }

    // (d) Every published port is on 127.0.0.1; no command line carries the Redis password.
    @Test(
        "compose publishes on 127.0.0.1 only and keeps the password off command lines",
        .enabled(if: Tools.runnable("docker-compose"), "needs docker-compose"))
    func composePortsAndSecrets() async throws {
        _ = try #require(TestProcess.find("docker-compose"), "\(Tools.composeHint)")
        let compose = try Compose()
        let config = try await compose.run(["--profile", "monitoring", "--profile", "sim", "--profile", "ha", "config"])
        try #require(config.status == 0, "docker-compose config failed:\n\(config.output)")
        let services = ComposeServices(config: config.output)
        try #require(
            Set(services.blocks.keys) == [
                "redis", "execution", "monitoring", "feed", "prometheus", "grafana", "venue-sim", "execution-sim", "monitoring-sim", "feed-sim",
                "redis-ha-1", "redis-ha-2", "redis-ha-3", "sentinel-1", "sentinel-2", "sentinel-3", "execution-ha-1", "execution-ha-2",
                "monitoring-ha",
            ],
            "services parsed from the config output: \(services.blocks.keys.sorted())")

        var published: [String: String] = [:]
        for service in services.blocks.keys.sorted() {
            #expect(services.section(service, "network_mode").isEmpty, "\(service): network_mode bypasses the port bindings")
            for entry in services.entries(service, "ports") {
                let value = entry.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
                if value.contains("published:") || value.contains("host_ip:") {
                    // Long syntax.
                    #expect(value.contains("host_ip: 127.0.0.1"), "\(service) publishes \(value) beyond 127.0.0.1")
                    if let range = value.range(of: #"published: '?(\d+)"#, options: .regularExpression) {
                        published[String(value[range].filter(\.isNumber))] = service
                    }
                } else {
                    #expect(value.hasPrefix("127.0.0.1:"), "\(service) publishes \(value) beyond 127.0.0.1")
                    let parts = value.split(separator: ":")
                    if parts.count == 3 { published[String(parts[1])] = service }
                }
            }
        }
        #expect(
            published == [
                "8002": "execution", "8003": "monitoring", "9090": "prometheus", "3000": "grafana", "8012": "execution-sim", "8013": "monitoring-sim",
                "9100": "venue-sim", "8022": "execution-ha-1", "8023": "execution-ha-2", "8024": "monitoring-ha",
            ],
            "published host ports: \(published)")

        // The password may sit in environments (the services need it), never on a command line.
        let password = Compose.password
        for service in services.blocks.keys.sorted() {
            for key in ["command", "entrypoint", "healthcheck"] {
                let text = services.section(service, key).joined(separator: "\n")
                #expect(!text.contains(password), "\(service) \(key) contains the Redis password")
                #expect(!text.contains("--requirepass"), "\(service) \(key) passes --requirepass on a command line")
                #expect(!text.contains("redis-cli -a") && !text.contains(" -a \(password)"), "\(service) \(key) uses redis-cli -a")
            }
        }
        let redisCommand = services.section("redis", "command").joined(separator: "\n")
        #expect(
            redisCommand.contains("requirepass") && redisCommand.contains("REDIS_PASSWORD"),
            "redis must take requirepass from $REDIS_PASSWORD:\n\(redisCommand)")
        #expect(redisCommand.contains("--appendonly yes") && redisCommand.contains("--appendfsync everysec"), "redis: AOF everysec")
        #expect(
            services.section("redis", "environment").joined().contains("REDISCLI_AUTH: \(password)"),
            "the redis healthcheck authenticates through REDISCLI_AUTH")
        // The services reach Redis with the password from the env file.
        for service in ["execution", "monitoring", "feed"] {
            #expect(
                services.section(service, "environment").joined().contains("REDIS_URL: redis://:\(password)@redis:6379/0"),
                "\(service) REDIS_URL")
        }
        // Prometheus and Grafana only with the monitoring profile; the rest always.
        for service in ["prometheus", "grafana"] {
            #expect(services.entries(service, "profiles") == ["monitoring"], "\(service) profiles")
        }
        for service in ["redis", "execution", "monitoring", "feed"] {
            #expect(services.section(service, "profiles").isEmpty, "\(service) must run without a profile")
        }
    }

    // (b) promtool accepts the Prometheus configuration.
    @Test("promtool check config accepts deploy/prometheus.yml", .enabled(if: Tools.runnable("promtool"), "needs promtool"))
    func prometheusConfigIsValid() async throws {
        _ = try #require(TestProcess.find("promtool"), "\(Tools.promtoolHint)")
        let result = try await TestProcess.run("promtool", ["check", "config", Repo.path("deploy/prometheus.yml")], timeout: .seconds(60))
        #expect(result.status == 0, "promtool check config failed:\n\(result.output)")
        #expect(result.output.contains("SUCCESS"), "\(result.output)")
        let text = try Repo.read("deploy/prometheus.yml")
        #expect(text.contains("execution:8002") && text.contains("monitoring:8003"), "prometheus.yml must scrape both services")
    }

    // (c) The dashboard parses and names only exported metrics.
    @Test("the Grafana dashboard parses and uses only exported metric names")
    func dashboardUsesExportedMetrics() async throws {
        let text = try Repo.read("deploy/grafana/dashboards/exitbrain.json")
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let dashboard = try #require(json as? [String: Any], "the dashboard is not a JSON object")
        let panels = try #require(dashboard["panels"] as? [[String: Any]], "the dashboard has no panels")
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(expressions.count >= 8, "expected a query per panel, found \(expressions.count)")
        #expect(!expressions.contains { $0.trimmingCharacters(in: .whitespaces).isEmpty }, "a panel has an empty query")

        let regex = try Regex("exitbrain_[a-z_]+")
        let names = Set(text.matches(of: regex).map { String(text[$0.range]) })
        #expect(!names.isEmpty, "no exitbrain_ metric in the dashboard")
        for name in names.sorted() {
            #expect(exportedMetricNames.contains(metricFamily(name)), "the dashboard uses \(name), which the services do not export")
        }
        let used = Set(names.map(metricFamily))
        for required in [
            "exitbrain_plans_active", "exitbrain_fills_total", "exitbrain_legs_triggered_total",
            "exitbrain_events_rejected_total", "exitbrain_redis_latency_seconds",
            "exitbrain_eventbus_roundtrip_seconds", "exitbrain_health_status",
            "exitbrain_reconcile_duration_seconds",
        ] {
            #expect(used.contains(required), "the dashboard has no panel on \(required)")
        }
        #expect(
            text.contains("exitbrain_redis_latency_seconds_bucket") && text.contains("histogram_quantile(0.99"),
            "Redis latency p99 comes from the histogram buckets")

        // The panels point at the provisioned datasource.
        let datasource = try Repo.read("deploy/grafana/provisioning/datasources/prometheus.yml")
        #expect(
            datasource.contains("uid: prometheus") && text.contains(#""uid": "prometheus""#),
            "dashboard and provisioned datasource must share uid 'prometheus'")
        let provider = try Repo.read("deploy/grafana/provisioning/dashboards/exitbrain.yml")
        #expect(provider.contains("type: file") && provider.contains("/var/lib/grafana/dashboards"), "file provider for the dashboards folder")
    }

    @Test("the image runs as a non-root user")
    func imageRunsAsNonRoot() throws {
        let dockerfile = try Repo.read("deploy/Dockerfile")
        let lines = dockerfile.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let lastStage = try #require(lines.lastIndex { $0.uppercased().hasPrefix("FROM ") }, "no FROM")
        let users = lines[lastStage...].filter { $0.uppercased().hasPrefix("USER ") }.map {
            String($0.dropFirst(5)).trimmingCharacters(in: .whitespaces)
        }
        let user = try #require(users.last, "the runtime stage sets no USER")
        #expect(!["root", "0", "0:0"].contains(user), "runs as \(user)")
        #expect(lines[lastStage...].contains { $0.contains("useradd") || $0.contains("adduser") }, "the user is created in the runtime stage")
    }

    // The dashboard's queries are valid PromQL (promtool parses them as recording rules).
    @Test("the dashboard's queries parse as PromQL", .enabled(if: Tools.runnable("promtool"), "needs promtool"))
    func dashboardQueriesParse() async throws {
        _ = try #require(TestProcess.find("promtool"), "\(Tools.promtoolHint)")
        let data = try Data(contentsOf: URL(fileURLWithPath: Repo.path("deploy/grafana/dashboards/exitbrain.json")))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = dashboard["panels"] as? [[String: Any]] ?? []
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        try #require(!expressions.isEmpty)
        var rules = "groups:\n  - name: dashboard\n    rules:\n"
        for (i, expr) in expressions.enumerated() {
            let quoted = expr.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            rules += "      - record: dashboard:query_\(i)\n        expr: \"\(quoted)\"\n"
        }
        let dir = try TemporaryDirectory("promql")
        let file = dir.path + "/rules.yml"
        try rules.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try await TestProcess.run("promtool", ["check", "rules", file], timeout: .seconds(60))
        #expect(result.status == 0, "promtool rejects a dashboard query:\n\(result.output)")
    }

    // (e) backup.sh round trip: write plans, back up three times keeping two, flush, restore.
    @Test(
        "backup.sh backs up, rotates, and the backup restores",
        .enabled(if: TestRedis.isCI || (TestRedis.enabled && TestProcess.find("redis-cli") != nil), "needs redis-server and redis-cli"))
    func backupRoundTrip() async throws {
        _ = try #require(TestProcess.find("redis-cli"), "\(Tools.redisHint)")
        _ = try #require(TestProcess.find("bash"), "bash is needed for deploy/redis/backup.sh")
        let password = "pw-backup"
        // repl-diskless-sync-delay 0: `redis-cli --rdb` would otherwise wait 5 s per backup.
        let server = try await RedisTestServer(password: password, arguments: ["--repl-diskless-sync-delay", "0"])
        defer { server.terminate() }

        var cliEnv = ProcessInfo.processInfo.environment
        cliEnv["REDISCLI_AUTH"] = password
        func cli(_ args: String...) async throws -> String {
            let r = try await TestProcess.run("redis-cli", ["-p", String(server.port)] + args, environment: cliEnv, timeout: .seconds(30))
            let out = r.output.trimmingCharacters(in: .whitespacesAndNewlines)
            // redis-cli exits 0 on error replies when its output is not a terminal.
            let failed = r.status != 0 || ["ERR", "NOAUTH", "WRONGPASS", "LOADING", "Could not connect"].contains { out.hasPrefix($0) }
            try #require(!failed, "redis-cli \(args.first ?? ""): \(out)")
            return out
        }

        let key = "test-backup:exit:plans"
        var plans: [String: String] = [:]
        for (i, symbol) in ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"].enumerated() {
            plans["\(symbol):LONG"] =
                #"{"plan_id":"p-\#(i)","symbol":"\#(symbol)","side":"LONG","status":"ACTIVE","version":\#(i + 1),"entry_price":\#(100 + i).5}"#
        }
        for (field, value) in plans { _ = try await cli("HSET", key, field, value) }
        #expect(try await cli("HLEN", key) == "5")

        let backups = try TemporaryDirectory("backups")
        var backupEnv = ProcessInfo.processInfo.environment
        for k in ["REDISCLI_AUTH", "REDIS_URL", "BACKUP_DIR", "KEEP"] { backupEnv.removeValue(forKey: k) }
        var written: [String] = []
        for run in 1...3 {
            let r = try await TestProcess.run(
                "bash", [Repo.path("deploy/redis/backup.sh"), "-u", server.url, "-d", backups.path, "-k", "2"],
                environment: backupEnv, timeout: .seconds(150))
            try #require(r.status == 0, "backup.sh run \(run) failed (status \(r.status)):\n\(r.output)")
            #expect(!r.output.contains(password), "backup.sh printed the password:\n\(r.output)")
            let path = try #require(r.output.split(separator: "\n").last.map(String.init), "backup.sh printed nothing")
            #expect(path.hasPrefix(backups.path + "/exitbrain-") && path.hasSuffix("Z.rdb"), "backup path \(path)")
            #expect(FileManager.default.fileExists(atPath: path), "\(path) does not exist")
            written.append(path)
        }
        #expect(Set(written).count == 3, "three backups should have three names: \(written)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: backups.path).sorted()
        #expect(kept.count == 2, "-k 2 should keep two files, found \(kept)")
        #expect(kept.map { backups.path + "/" + $0 } == Array(written.suffix(2)), "the two newest are kept: \(kept) of \(written)")
        let newest = try #require(written.last)
        let header = try #require(FileManager.default.contents(atPath: newest)?.prefix(5))
        #expect(String(decoding: header, as: UTF8.self) == "REDIS", "the backup is not an RDB file")

        // Lose the data. The server's own dump.rdb (written by backup.sh's BGSAVE) goes too, so
        // the restart below proves the server starts empty without the backup.
        _ = try await cli("FLUSHALL")
        let flushed = try await cli("HLEN", key)
        #expect(flushed == "0", "HLEN after FLUSHALL: \(flushed)")
        await server.stop()
        let dump = server.directory + "/dump.rdb"
        try? FileManager.default.removeItem(atPath: dump)
        try await server.start()
        let empty = try await cli("HLEN", key)
        #expect(empty == "0", "without a dump.rdb a restart must come back empty, HLEN: \(empty)")

        // Restore: stop, put the newest backup in place as dump.rdb, start. With appendonly off,
        // Redis loads dump.rdb at start even with save '' (RedisTestServer's settings).
        await server.stop()
        try? FileManager.default.removeItem(atPath: dump)
        try FileManager.default.copyItem(atPath: newest, toPath: dump)
        try await server.start()
        let restored = try await cli("HLEN", key)
        #expect(restored == "5", "the restored backup should hold the 5 plans, HLEN: \(restored)")
        for (field, value) in plans {
            let got = try await cli("HGET", key, field)
            #expect(got == value, "\(field) restored intact")
        }
    }
}
