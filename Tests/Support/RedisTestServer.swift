import ChildProcesses
import Foundation
import RedisClient

/// A throwaway `redis-server` on a free loopback port, without persistence unless asked.
/// Tests that stop, kill or restart Redis use one of their own.
public final class RedisTestServer: Sendable {
    /// The port it listens on (kept across restarts).
    public let port: Int
    /// The password it requires, if any.
    public let password: String?
    /// Its working folder (RDB/AOF files when persistence is on).
    public let directory: String
    private let process: RedisServerProcess

    /// Starts a server; throws when `redis-server` cannot be found or does not come up.
    /// `persistent` turns AOF (everysec) on, for tests that kill and restart it.
    public init(password: String? = nil, persistent: Bool = false, arguments: [String] = []) async throws {
        port = try LoopbackPort.free()
        self.password = password
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("exitbrain-redis-\(port)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var args = persistent ? ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""] : ["--save", "", "--appendonly", "no"]
        if let password { args += ["--requirepass", password] }
        process = RedisServerProcess(port: port, directory: directory, arguments: args + arguments)
        try await process.start()
    }

    deinit {
        process.terminate()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The URL to reach it, with the password when one is set.
    public var url: String {
        if let password { return "redis://:\(password)@127.0.0.1:\(port)/0" }
        return "redis://127.0.0.1:\(port)/0"
    }

    /// A client configuration for it, with short reconnect waits.
    public func configuration(commandTimeoutMilliseconds: Int = 2000) -> RedisConfiguration {
        var c = (try? RedisConfiguration(url: url)) ?? RedisConfiguration()
        c.commandTimeoutMilliseconds = commandTimeoutMilliseconds
        c.reconnectInitialMilliseconds = 50
        c.reconnectMaxMilliseconds = 500
        return c
    }

    /// The server's process id while it runs.
    public var processIdentifier: pid_t? { process.processIdentifier }

    /// Starts it again on the same port.
    public func start() async throws { try await process.start() }
    /// Stops it with SIGTERM and waits for the exit.
    public func stop() async { await process.stop() }
    /// Sends SIGTERM without waiting (cleanups in `defer`).
    public func terminate() { process.terminate() }
    /// Kills it with SIGKILL and waits for the exit.
    public func kill() async { await process.kill() }
    /// Stops and starts it on the same port.
    public func restart() async throws {
        await process.stop()
        try await process.start()
    }

    /// Finds `redis-server`.
    public static func redisServerPath() throws -> String { try RedisServerProcess.executablePath() }
}

/// Free loopback ports.
public enum FreePort {
    /// A port that was free a moment ago.
    public static func find() throws -> Int { try LoopbackPort.free() }
}
