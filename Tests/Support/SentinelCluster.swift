import ChildProcesses
import Foundation
import RedisClient

#if canImport(Glibc)
import Glibc
#endif

/// A primary, its replicas and its sentinels (`redis-server --sentinel`, each with its own
/// writable config) on free loopback ports, the primary named `exitbrain`, the quorum a
/// majority of the sentinels; ready once every sentinel knows every replica and every replica
/// is in sync.
public final class SentinelCluster: Sendable {
    public let primary: RedisServerProcess
    public let replicas: [RedisServerProcess]
    public let sentinelServers: [RedisServerProcess]
    public let directory: String

    /// The first replica.
    public var replica: RedisServerProcess { replicas[0] }
    /// The first sentinel.
    public var sentinel: RedisServerProcess { sentinelServers[0] }

    /// The password of every node and sentinel, if any.
    public let password: String?

    /// With `password`, every node and sentinel asks for it (requirepass, masterauth,
    /// auth-pass, sentinel-pass), as the compose file's `ha` profile configures them.
    public init(replicas replicaCount: Int = 1, sentinels sentinelCount: Int = 1, password: String? = nil) async throws {
        self.password = password
        let auth = password.map { ["--requirepass", $0, "--masterauth", $0] } ?? []
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("sentinel-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let p = try LoopbackPort.free()
        try FileManager.default.createDirectory(atPath: directory + "/p", withIntermediateDirectories: true)
        primary = RedisServerProcess(port: p, directory: directory + "/p", arguments: ["--save", "", "--appendonly", "no"] + auth)
        var replicas: [RedisServerProcess] = []
        for i in 0..<replicaCount {
            try FileManager.default.createDirectory(atPath: directory + "/r\(i)", withIntermediateDirectories: true)
            replicas.append(
                RedisServerProcess(
                    port: try LoopbackPort.free(), directory: directory + "/r\(i)",
                    arguments: ["--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1", String(p)] + auth))
        }
        self.replicas = replicas
        var sentinels: [RedisServerProcess] = []
        for i in 0..<sentinelCount {
            let dir = directory + "/s\(i)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let conf = dir + "/sentinel.conf"
            try
                ("""
            sentinel monitor exitbrain 127.0.0.1 \(p) \(sentinelCount / 2 + 1)
            sentinel down-after-milliseconds exitbrain 1000
            sentinel failover-timeout exitbrain 4000
            sentinel parallel-syncs exitbrain 1

            """
                + (password.map { "sentinel auth-pass exitbrain \($0)\nrequirepass \($0)\nsentinel sentinel-pass \($0)\n" } ?? "")).write(
                    toFile: conf, atomically: true, encoding: .utf8)
            sentinels.append(RedisServerProcess(port: try LoopbackPort.free(), directory: dir, arguments: ["--sentinel"], configFile: conf))
        }
        sentinelServers = sentinels
        try await primary.start()
        for r in replicas { try await r.start() }
        for s in sentinels { try await s.start() }
        // Every sentinel must know every replica (and the other sentinels), and every replica be
        // in sync, before a failover.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while clock.now < deadline {
            var ready = true
            for s in sentinels {
                let ask = RedisConnection(configuration: RedisConfiguration(port: s.port, password: password))
                let known = (try? await ask.send("SENTINEL", "replicas", "exitbrain").array?.count) ?? 0
                let peers = (try? await ask.send("SENTINEL", "sentinels", "exitbrain").array?.count) ?? 0
                await ask.close()
                ready = ready && known == replicaCount && peers == sentinelCount - 1
            }
            // The primary lists every replica as online.
            let primaryConn = RedisConnection(configuration: RedisConfiguration(port: p, password: password))
            let info = (try? await primaryConn.send("INFO", "replication").string) ?? ""
            await primaryConn.close()
            ready =
                ready && info.contains("connected_slaves:\(replicaCount)") && info.components(separatedBy: "state=online").count - 1 == replicaCount
            for r in replicas {
                let conn = RedisConnection(configuration: RedisConfiguration(port: r.port, password: password))
                let synced = (try? await conn.send("INFO", "replication").string?.contains("master_link_status:up")) ?? false
                await conn.close()
                ready = ready && synced
            }
            if ready { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestProcess.Failure("the sentinels never saw every replica and each other")
    }

    public var configuration: RedisConfiguration {
        var c = RedisConfiguration(
            port: 1, password: password, connectTimeoutMilliseconds: 500, commandTimeoutMilliseconds: 1000, reconnectInitialMilliseconds: 50)
        c.sentinelPassword = password
        // Tests run side by side on 2 cores: a replica may take more than the default 100 ms.
        c.replicaWaitMilliseconds = 2000
        c.sentinels = sentinelServers.map { SentinelAddress(host: "127.0.0.1", port: $0.port) }
        return c
    }

    /// A primary left stopped (SIGSTOP) by a test that failed half-way is woken, so that its
    /// SIGTERM (at deinit) ends it.
    deinit {
        if let pid = primary.processIdentifier { kill(pid, SIGCONT) }
    }

    public func stop() async {
        if let pid = primary.processIdentifier { kill(pid, SIGCONT) }
        for s in sentinelServers { await s.stop() }
        for r in replicas { await r.stop() }
        await primary.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `host:port,…` of the sentinels, for `REDIS_SENTINELS`.
    public var sentinels: String { sentinelServers.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") }

    /// The port of the primary the first sentinel that answers names.
    public func primaryPort() async -> Int? {
        for s in sentinelServers {
            let conn = RedisConnection(
                configuration: RedisConfiguration(port: s.port, password: password, connectTimeoutMilliseconds: 300, commandTimeoutMilliseconds: 500))
            let reply = try? await conn.send("SENTINEL", "get-master-addr-by-name", "exitbrain")
            await conn.close()
            if let parts = reply?.array, parts.count == 2, let port = parts[1].string.flatMap({ Int($0) }) { return port }
        }
        return nil
    }

    /// Waits until the sentinels name a primary other than `port`; how long that took.
    public func waitForSwitch(from port: Int, within: Duration = .seconds(30)) async -> Duration? {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < within {
            if let now = await primaryPort(), now != port { return clock.now - start }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// `SENTINEL FAILOVER`, asked again while the sentinel answers NOGOODSLAVE (it has no fresh
    /// news of the replica yet); true once it started one.
    public func failover(within: Duration = .seconds(15)) async -> Bool {
        let sentinelConn = RedisConnection(configuration: RedisConfiguration(port: sentinel.port, password: password))
        defer { Task { await sentinelConn.close() } }
        let clock = ContinuousClock()
        let deadline = clock.now + within
        while clock.now < deadline {
            if (try? await sentinelConn.send("SENTINEL", "FAILOVER", "exitbrain")) != nil { return true }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return false
    }
}
