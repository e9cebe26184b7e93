import Foundation
import RedisClient
import Support
import Testing

/// Calls made together on one connection share round trips, and each gets its own replies.
@Suite("Calls made together share round trips", .enabled(if: TestRedis.enabled))
struct SharedRoundTripTests {
    @Test func concurrentCallsShareWritesAndEachGetsItsOwnReplies() async throws {
        let conn = RedisConnection(configuration: try await TestRedis.configuration())
        let ns = TestRedis.namespace("shared")
        try await conn.connect()
        let before = conn.stats.roundTrips
        let callers = 200
        let answers = try await withThrowingTaskGroup(of: (Int, [RedisReply], RedisReply, [RedisReply]).self) { group in
            for i in 0..<callers {
                group.addTask {
                    // A pipeline, a script and a transaction per caller, in its own order.
                    let piped = try await conn.pipeline([["SET", "\(ns):\(i)", "v\(i)"], ["GET", "\(ns):\(i)"], ["NOSUCHCOMMAND"]])
                    let script = try await conn.send("EVAL", "return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, "\(ns):n\(i)", i)
                    let exec = try await conn.transaction([["INCR", "\(ns):n\(i)"], ["GET", "\(ns):\(i)"]])
                    return (i, piped, script, exec)
                }
            }
            var all: [(Int, [RedisReply], RedisReply, [RedisReply])] = []
            for try await answer in group { all.append(answer) }
            return all
        }
        #expect(answers.count == callers)
        for (i, piped, script, exec) in answers {
            #expect(piped.count == 3)
            #expect(piped.first == .status("OK"))
            #expect(piped.dropFirst().first?.bytes == Array("v\(i)".utf8))
            if case .error(let text)? = piped.last { #expect(text.contains("unknown command")) } else { Issue.record("caller \(i): \(piped)") }
            #expect(script == .integer(Int64(i)))
            #expect(exec == [.integer(Int64(i) + 1), .bulk(Array("v\(i)".utf8))])
        }
        // 600 calls; made together, far fewer writes.
        let trips = conn.stats.roundTrips - before
        #expect(trips < 3 * callers / 2, "600 calls took \(trips) round trips")
        await TestRedis.cleanup(namespace: ns)
    }

    @Test func oneCallersCallsKeepTheirOrderBesideOthers() async throws {
        let conn = RedisConnection(configuration: try await TestRedis.configuration())
        let ns = TestRedis.namespace("order")
        // One caller's calls, one after another, while another caller writes beside it.
        let noise = Task {
            for i in 0..<300 { _ = try? await conn.send("SET", "\(ns):noise", i) }
        }
        for i in 0..<300 { try await conn.send("RPUSH", "\(ns):list", i) }
        await noise.value
        let list = try await conn.send("LRANGE", "\(ns):list", 0, -1)
        #expect(list.array?.compactMap { $0.string } == (0..<300).map(String.init))
        await TestRedis.cleanup(namespace: ns)
    }

    @Test func aRoundThatCannotBeWrittenFailsEveryCallInIt() async throws {
        var config = RedisConfiguration(host: "127.0.0.1", port: try FreePort.find())
        config.reconnectInitialMilliseconds = 10_000
        let conn = RedisConnection(configuration: config)
        let failures = await withTaskGroup(of: RedisError?.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    do {
                        try await conn.send("PING")
                        return nil
                    } catch let error as RedisError {
                        return error
                    } catch {
                        return RedisError(.io, "\(error)")
                    }
                }
            }
            return await group.reduce(into: [RedisError]()) { if let e = $1 { $0.append(e) } }
        }
        #expect(failures.count == 20, "every call failed, none hung")
        #expect(failures.allSatisfy { [RedisError.Code.connectionRefused, .connectionDown].contains($0.code) }, "\(failures)")
    }
}
