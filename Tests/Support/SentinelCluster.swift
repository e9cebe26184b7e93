import ChildProcesses
import Foundation
import RedisClient

/// A primary, a replica and a sentinel (`redis-server --sentinel`, its own writable config) on
/// free loopback ports, the primary named `exitbrain`; ready once the sentinel knows the
/// replica and the replica is in sync.
public final class SentinelCluster: Sendable {
    public let primary: RedisServerProcess
    public let replica: RedisServerProcess
    public let sentinel: RedisServerProcess
    public let directory: String

    public init() async throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("sentinel-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        for sub in ["p", "r", "s"] { try FileManager.default.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true) }
        let (p, r, s) = (try LoopbackPort.free(), try LoopbackPort.free(), try LoopbackPort.free())
        primary = RedisServerProcess(port: p, directory: directory + "/p", arguments: ["--save", "", "--appendonly", "no"])
        replica = RedisServerProcess(
            port: r, directory: directory + "/r", arguments: ["--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1", String(p)])
        let conf = directory + "/s/sentinel.conf"
        try """
        sentinel monitor exitbrain 127.0.0.1 \(p) 1
        sentinel down-after-milliseconds exitbrain 1000
        sentinel failover-timeout exitbrain 4000
        sentinel parallel-syncs exitbrain 1

        """.write(toFile: conf, atomically: true, encoding: .utf8)
        sentinel = RedisServerProcess(port: s, directory: directory + "/s", arguments: ["--sentinel"], configFile: conf)
        try await primary.start()
        try await replica.start()
        try await sentinel.start()
        // The sentinel must know the replica, and the replica be in sync, before a failover.
        let ask = RedisConnection(configuration: RedisConfiguration(port: s))
        let replicaConn = RedisConnection(configuration: RedisConfiguration(port: r))
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while clock.now < deadline {
            let known = (try? await ask.send("SENTINEL", "replicas", "exitbrain").array?.isEmpty == false) ?? false
            let synced = (try? await replicaConn.send("INFO", "replication").string?.contains("master_link_status:up")) ?? false
            if known && synced {
                await ask.close()
                await replicaConn.close()
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        await ask.close()
        await replicaConn.close()
        throw TestProcess.Failure("the sentinel never saw the replica")
    }

    public var configuration: RedisConfiguration {
        var c = RedisConfiguration(port: 1, connectTimeoutMilliseconds: 500, commandTimeoutMilliseconds: 1000, reconnectInitialMilliseconds: 50)
        c.sentinels = [SentinelAddress(host: "127.0.0.1", port: sentinel.port)]
        return c
    }

    public func stop() async {
        await sentinel.stop()
        await replica.stop()
        await primary.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `host:port` of the sentinel, for `REDIS_SENTINELS`.
    public var sentinels: String { "127.0.0.1:\(sentinel.port)" }

    /// `SENTINEL FAILOVER`, asked again while the sentinel answers NOGOODSLAVE (it has no fresh
    /// news of the replica yet); true once it started one.
    public func failover(within: Duration = .seconds(15)) async -> Bool {
        let sentinelConn = RedisConnection(configuration: RedisConfiguration(port: sentinel.port))
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
