import ExitBrainCoordination
import Foundation
import RedisClient
import Support
import Testing

/// The compose file's `ha` profile: its Redis nodes and sentinels configured as the issue of
/// record asks (min-replicas-to-write 1, min-replicas-max-lag 10, AOF everysec, three
/// sentinels with writable configs of their own), and its two execution instances and monitor
/// started with their environment (the sentinels' addresses swapped for a local primary, two
/// replicas and three sentinels with the same password): healthy through the sentinels, the
/// buckets split 8 and 8, a signal planned.
@Suite("Compose ha profile", .serialized)
struct ComposeHAProfileTests {
    /// A rendered command as one line of words (the renderer folds long lines).
    static func words(_ lines: [Substring]) -> String { lines.joined(separator: " ").split(whereSeparator: \.isWhitespace).joined(separator: " ") }

    @Test(
        .enabled(
            if: Tools.runnable("docker-compose") && (TestRedis.isCI || TestProcess.find("redis-server") != nil),
            "needs docker-compose and redis-server"))
    func theHAProfileSharesTheBookThroughSentinel() async throws {
        let binary = try #require(ComposeRunTests.binary, "the exitbrain binary is built by `swift build --build-tests`")
        let services = try await Compose().services(profiles: ["ha"])

        for node in ["redis-ha-1", "redis-ha-2", "redis-ha-3"] {
            let command = Self.words(services.section(node, "command"))
            for part in ["--min-replicas-to-write 1", "--min-replicas-max-lag 10", "--appendonly yes", "--appendfsync everysec", "masterauth"] {
                #expect(command.contains(part), "\(node) command lacks \(part): \(command)")
            }
            #expect(command.contains("--replicaof redis-ha-1 6379") == (node != "redis-ha-1"), "\(node): \(command)")
        }
        var volumes: Set<String> = []
        for sentinel in ["sentinel-1", "sentinel-2", "sentinel-3"] {
            let command = Self.words(services.section(sentinel, "command"))
            #expect(command.contains("/data/sentinel.conf --sentinel"), "\(sentinel): \(command)")
            #expect(command.contains("sentinel monitor exitbrain redis-ha-1 6379 2"), "\(sentinel): quorum 2 of 3")
            volumes.formUnion(services.entries(sentinel, "volumes"))
        }
        #expect(volumes.count == 3, "each sentinel has its own writable volume: \(volumes)")

        let cluster = try await SentinelCluster(replicas: 2, sentinels: 3, password: Compose.password)
        do {
            try await run(binary: binary, services: services, cluster: cluster)
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    /// The three services against `cluster`; stops them.
    func run(binary: String, services: ComposeServices, cluster: SentinelCluster) async throws {
        var started: [(name: String, process: TestProcess.Background, port: Int)] = []
        var namespace = ""
        for (name, verb) in [("execution-ha-1", "execution"), ("execution-ha-2", "execution"), ("monitoring-ha", "monitor")] {
            #expect(services.entries(name, "command") == [verb])
            var env = ComposeRunTests.environment(services, name)
            #expect(env["REDIS_SENTINELS"] == "sentinel-1:26379,sentinel-2:26379,sentinel-3:26379", "\(name) finds the primary through the sentinels")
            #expect(env["REDIS_SENTINEL_PASSWORD"] == Compose.password)
            env["REDIS_SENTINELS"] = cluster.sentinels
            namespace = env["REDIS_NAMESPACE"] ?? ""
            let (process, port) = try ComposeRunTests.startLocally(binary, [verb], environment: env)
            started.append((name, process, port))
        }
        for s in started {
            let answer = try await LoopbackHTTP.poll(
                port: s.port, "/health", until: { $0.status == 200 && $0.body.contains(#""status":"OK","version""#) }, within: .seconds(30))
            #expect(answer.body.contains(#""status":"OK","version""#), "\(s.name): \(answer.body)\n\(s.process.output.suffix(2000))")
            #expect(answer.body.contains(#""primary":"127.0.0.1:\#(cluster.primary.port)""#), "\(s.name) on the primary")
        }
        let ns = try Namespace(namespace)
        let conn = RedisConnection(configuration: cluster.configuration)
        let clock = ContinuousClock()
        var spread: [String: Int] = [:]
        let deadline = clock.now + .seconds(15)
        while clock.now < deadline {
            let holders = try await conn.send(RedisCommand(["MGET"] + (0..<16).map { ns.lease($0) })).array?.compactMap(\.string) ?? []
            spread = Dictionary(holders.map { ($0, 1) }, uniquingKeysWith: +)
            if spread.values.sorted() == [8, 8] { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(spread.values.sorted() == [8, 8], "the two instances split the 16 buckets: \(spread)")
        let signal =
            #"{"id":"ha-compose-1","type":"trade.signal","source":"compose-test","ts":"2026-11-25T18:38:24.123Z","data":{"symbol":"BTCUSDT","side":"BUY","quantity":0.01,"leverage":10,"price":50000}}"#
        try await conn.send("PUBLISH", ns.channel(.tradeSignal), signal)
        var planned = false
        while clock.now < deadline + .seconds(10), !planned {
            planned = (try? await conn.send("HEXISTS", ns.plans, "BTCUSDT:LONG").int) == 1
            if !planned { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(planned, "a signal gets its plan from the instance holding its bucket")
        for s in started { #expect(await s.process.stop() == 0, "\(s.name) stops cleanly") }
        await conn.close()
    }
}
