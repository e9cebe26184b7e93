import Foundation
import RedisClient
import Support
import Testing

@Suite("Redis connection against a real server", .enabled(if: TestRedis.enabled))
struct RedisConnectionTests {
    @Test func everyReplyType() async throws {
        let conn = RedisConnection(configuration: try await TestRedis.configuration())
        let ns = TestRedis.namespace("types")
        #expect(try await conn.send("SET", "\(ns):a", "hello") == .status("OK"))
        #expect(try await conn.send("GET", "\(ns):a") == .bulk(Array("hello".utf8)))
        #expect(try await conn.send("GET", "\(ns):missing") == .null)
        #expect(try await conn.send("INCRBY", "\(ns):n", 41) == .integer(41))
        let nested = try await conn.send("EVAL", "return {1, {2, 'x'}, 'y'}", 0)
        #expect(nested == .array([.integer(1), .array([.integer(2), .bulk(Array("x".utf8))]), .bulk(Array("y".utf8))]))
        let errorReply = try await conn.pipeline([["NOSUCHCOMMAND"]])
        guard case .error(let text)? = errorReply.first else {
            Issue.record("expected an error reply, got \(errorReply)")
            return
        }
        #expect(text.contains("unknown command"))
        await #expect(throws: RedisError.self) { try await conn.send("NOSUCHCOMMAND") }
        await TestRedis.cleanup(namespace: ns)
    }

    @Test func binarySafety() async throws {
        let conn = RedisConnection(configuration: try await TestRedis.configuration())
        let ns = TestRedis.namespace("bin")
        let value: [UInt8] = [0x00, 0xFF, 0xFE, 0x00, 0x41, 0xC3, 0x28, 0x0D, 0x0A, 0x00]
        let key: [UInt8] = Array("\(ns):".utf8) + [0x00, 0xFF, 0x01]
        try await conn.send(RedisCommand(["SET", key, value]))
        let back = try await conn.send(RedisCommand(["GET", key]))
        #expect(back.bytes == value)
        #expect(try await conn.send(RedisCommand(["STRLEN", key])) == .integer(Int64(value.count)))
        let empty = try await conn.send(RedisCommand(["SET", key, [UInt8]()]))
        #expect(empty == .status("OK"))
        #expect(try await conn.send(RedisCommand(["GET", key])).bytes == [])
        await TestRedis.cleanup(namespace: ns)
    }

    @Test func tenThousandPipelinedCommandsInOneRoundTrip() async throws {
        let conn = RedisConnection(configuration: try await TestRedis.configuration())
        let ns = TestRedis.namespace("pipe")
        try await conn.connect()
        let before = conn.stats.roundTrips
        let commands = (0..<10_000).map { _ in RedisCommand("INCR", "\(ns):counter") }
        let replies = try await conn.pipeline(commands)
        #expect(replies.count == 10_000)
        #expect(replies.first == .integer(1))
        #expect(replies.last == .integer(10_000))
        #expect(replies.enumerated().allSatisfy { $0.element == .integer(Int64($0.offset + 1)) })
        #expect(conn.stats.roundTrips - before == 1)
        await TestRedis.cleanup(namespace: ns)
    }

    @Test func transactionAndQueueError() async throws {
        let conn = RedisConnection(configuration: try await TestRedis.configuration())
        let ns = TestRedis.namespace("tx")
        let results = try await conn.transaction([RedisCommand("SET", "\(ns):x", "1"), RedisCommand("INCR", "\(ns):x")])
        #expect(results == [.status("OK"), .integer(2)])
        await #expect(throws: RedisError.self) {
            try await conn.transaction([RedisCommand("SET", "\(ns):y", "1"), RedisCommand("NOSUCH")])
        }
        #expect(try await conn.send("EXISTS", "\(ns):y") == .integer(0))
        await TestRedis.cleanup(namespace: ns)
    }

    @Test func scriptsReloadAfterFlush() async throws {
        // A server of its own: SCRIPT FLUSH on the shared one would pull scripts from under
        // the tests running beside this one.
        let server = try await RedisTestServer()
        defer { server.terminate() }
        let conn = RedisConnection(configuration: server.configuration())
        let script = RedisScript(name: "double", source: "return tonumber(ARGV[1]) * 2 -- \(UUID().uuidString)")
        #expect(try await conn.evaluate(script, keys: [], args: [21]) == .integer(42))
        try await conn.connect()
        let before = conn.stats.roundTrips
        #expect(try await conn.evaluate(script, keys: [], args: [5]) == .integer(10))
        #expect(conn.stats.roundTrips - before == 1, "a known script costs one round trip")
        try await conn.send("SCRIPT", "FLUSH")
        #expect(try await conn.evaluate(script, keys: [], args: [4]) == .integer(8))
    }

    @Test func refusedConnectionFailsFastThenBacksOff() async throws {
        var config = RedisConfiguration(host: "127.0.0.1", port: try FreePort.find())
        config.reconnectInitialMilliseconds = 10_000
        let conn = RedisConnection(configuration: config)
        do {
            try await conn.send("PING")
            Issue.record("PING to a closed port succeeded")
        } catch {
            #expect(error.code == .connectionRefused)
            #expect(error.message.contains("127.0.0.1"))
        }
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try await conn.send("PING")
            Issue.record("PING to a closed port succeeded")
        } catch {
            #expect(error.code == .connectionDown)
        }
        #expect(clock.now - start < .seconds(2), "a down connection answers at once, without waiting for the 10 s backoff")
    }

    @Test func reconnectsAfterClientKill() async throws {
        let conn = RedisConnection(configuration: try await TestRedis.configuration())
        let killer = RedisConnection(configuration: try await TestRedis.configuration())
        guard let id = try await conn.send("CLIENT", "ID").int else {
            Issue.record("CLIENT ID gave no integer")
            return
        }
        #expect(try await killer.send("CLIENT", "KILL", "ID", Int(id)) == .integer(1))
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await conn.send("PING") == .status("PONG"))
        let newID = try await conn.send("CLIENT", "ID").int
        #expect(newID != id)
        #expect(conn.stats.connects == 2)
    }

    @Test func wrongPasswordIsAnAuthError() async throws {
        let server = try await RedisTestServer(password: "right-horse")
        var config = server.configuration()
        config.password = "wrong-horse"
        let conn = RedisConnection(configuration: config)
        do {
            try await conn.send("PING")
            Issue.record("a wrong password was accepted")
        } catch {
            #expect(error.code == .authFailed)
            #expect(!error.description.contains("wrong-horse"))
        }
        let good = RedisConnection(configuration: server.configuration())
        #expect(try await good.send("PING") == .status("PONG"))
        var none = server.configuration()
        none.password = nil
        none.database = 1
        do {
            try await RedisConnection(configuration: none).send("PING")
            Issue.record("no password was accepted")
        } catch {
            #expect(error.code == .authFailed)
        }
    }

    @Test func timeoutThenRecovers() async throws {
        let server = try await RedisTestServer(arguments: ["--enable-debug-command", "yes"])
        let conn = RedisConnection(configuration: server.configuration(commandTimeoutMilliseconds: 200))
        #expect(try await conn.send("PING") == .status("PONG"))
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try await conn.send("DEBUG", "SLEEP", "3")
            Issue.record("DEBUG SLEEP 3 did not time out at 200 ms")
        } catch {
            #expect(error.code == .timeout)
            #expect(error.message.contains("200 ms"))
        }
        let waited = clock.now - start
        #expect(waited < .milliseconds(2500), "the call must end at the timeout, not when the 3 s sleep ends (took \(waited))")
        var recovered = false
        for _ in 0..<100 where !recovered {
            recovered = (try? await conn.send("PING")) == .status("PONG")
            if !recovered { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(recovered, "the connection recovers once the server answers again")
    }

    @Test func serverRestartReconnects() async throws {
        let server = try await RedisTestServer()
        let conn = RedisConnection(configuration: server.configuration())
        try await conn.send("SET", "k", "v")
        await server.stop()
        await #expect(throws: RedisError.self) { try await conn.send("PING") }
        try await server.start()
        var recovered = false
        for _ in 0..<100 where !recovered {
            recovered = (try? await conn.send("PING")) == .status("PONG")
            if !recovered { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(recovered)
    }
}
