import ArgumentParser
import Foundation
import RedisClient

/// `exitbrain redis-check`: proves Redis is reachable and pub/sub works, with latencies.
struct RedisCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-check",
        abstract: "Connect to Redis, round-trip a value and a pub/sub message, print latencies."
    )

    @Option(name: .customLong("redis-url"), help: "Redis URL (env REDIS_URL, default \(RedisConfiguration.defaultURL)).")
    var redisURL: String?

    @Option(help: "How many PINGs to time.")
    var pings: Int = 100

    func run() async throws {
        let url = redisURL ?? ProcessInfo.processInfo.environment["REDIS_URL"] ?? RedisConfiguration.defaultURL
        let config: RedisConfiguration
        do {
            config = try RedisConfiguration(url: url)
        } catch {
            fail("bad REDIS_URL: \(error.message)", code: 78)
        }
        do {
            let report = try await RedisSelfCheck.run(config, pings: pings)
            print(report)
            print("ok")
        } catch {
            fail("redis check failed: \(error.message)", code: 1)
        }
    }

    private func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("exitbrain: \(message)\n".utf8))
        Foundation.exit(code)
    }
}
