import Foundation
import RedisClient

#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) private var sharedServerPID: pid_t = 0

/// The Redis server shared by integration tests: the one the test command started
/// (`EXITBRAIN_TEST_REDIS_URL`), or one started here on first use.
public enum TestRedis {
    /// True when the run is under CI: Redis tests must run there, never skip.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" } ?? false }

    /// Whether Redis tests can run: a server URL was given, or `redis-server` is installed.
    /// Under CI this is always true, so a missing server fails the tests instead of skipping them.
    public static var enabled: Bool {
        isCI || ProcessInfo.processInfo.environment["EXITBRAIN_TEST_REDIS_URL"] != nil || (try? RedisTestServer.redisServerPath()) != nil
    }

    /// The server, started on first use when the test command gave none.
    private actor Shared {
        /// One start for every caller: tests run side by side ask at the same time.
        private var server: Task<(url: String, server: RedisTestServer?), any Error>?

        func url() async throws -> String {
            let start =
                server
                ?? Task {
                    if let url = ProcessInfo.processInfo.environment["EXITBRAIN_TEST_REDIS_URL"], !url.isEmpty { return (url, nil) }
                    let started = try await RedisTestServer()
                    sharedServerPID = started.processIdentifier ?? 0
                    // Static values are never deinitialized: stop the server when the test process exits.
                    atexit { if sharedServerPID > 0 { kill(sharedServerPID, SIGKILL) } }
                    return (started.url, started)
                }
            server = start
            return try await start.value.url
        }
    }

    private static let shared = Shared()

    /// The shared server's URL.
    public static func url() async throws -> String { try await shared.url() }

    /// A configuration for the shared server.
    public static func configuration(commandTimeoutMilliseconds: Int = 2000) async throws -> RedisConfiguration {
        var c = try RedisConfiguration(url: await url())
        c.commandTimeoutMilliseconds = commandTimeoutMilliseconds
        c.reconnectInitialMilliseconds = 50
        c.reconnectMaxMilliseconds = 500
        return c
    }

    /// A namespace no other test uses.
    public static func namespace(_ label: String = "t") -> String {
        "test-\(label)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Deletes every key under the namespace.
    public static func cleanup(namespace: String) async {
        guard let config = try? await configuration() else { return }
        let conn = RedisConnection(configuration: config)
        var cursor = "0"
        repeat {
            guard let reply = try? await conn.send("SCAN", cursor, "MATCH", "\(namespace):*", "COUNT", 1000),
                let parts = reply.array, parts.count == 2
            else { break }
            cursor = parts[0].string ?? "0"
            let keys = parts[1].array?.compactMap(\.bytes) ?? []
            if !keys.isEmpty { _ = try? await conn.send(RedisCommand(["DEL"] + keys)) }
        } while cursor != "0"
        await conn.close()
    }
}
