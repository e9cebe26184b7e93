import Foundation
import RedisClient

/// Sequential and 16-deep pipelined SET+GET through `RedisConnection`, beside `redis-benchmark`
/// for the same commands against the same server.
enum RedisBench {
    static func run(config: RedisConfiguration, port: Int, operations: Int) async throws {
        let conn = RedisConnection(configuration: config, name: "bench")
        try await conn.connect()
        let value = [UInt8](repeating: 0x78, count: 3)
        // Warm up.
        for i in 0..<1000 { try await conn.send(RedisCommand(["SET", "bench:key:\(i % 100)", value])) }

        let (sequential, pipelined) = try await measure(conn: conn, value: value, operations: operations)
        let (seqPinned, pipePinned) = try await withTaskExecutorPreference(conn.taskExecutor) {
            try await measure(conn: conn, value: value, operations: operations)
        }
        let rb1 = redisBenchmark(port: port, password: config.password, pipeline: 1, requests: operations)
        let rb16 = redisBenchmark(port: port, password: config.password, pipeline: 16, requests: operations * 4)
        print("redis client (\(operations) ops, SET+GET, 3-byte values, one connection)")
        report("sequential, any task", ours: sequential, baseline: rb1, baselineName: "redis-benchmark -c 1 -P 1")
        report("sequential, pinned task", ours: seqPinned, baseline: rb1, baselineName: "redis-benchmark -c 1 -P 1")
        report("pipelined x16, any task", ours: pipelined, baseline: rb16, baselineName: "redis-benchmark -c 1 -P 16")
        report("pipelined x16, pinned", ours: pipePinned, baseline: rb16, baselineName: "redis-benchmark -c 1 -P 16")
        _ = try await conn.send("DEL", "bench:key:0")
    }

    /// Sequential SET+GET and 16-deep pipelined SET/GET, in ops/s.
    static func measure(conn: RedisConnection, value: [UInt8], operations: Int) async throws -> (Double, Double) {
        let clock = ContinuousClock()
        var start = clock.now
        for i in 0..<operations / 2 {
            let key = "bench:key:\(i % 1000)"
            try await conn.send(RedisCommand(["SET", key, value]))
            try await conn.send(RedisCommand(["GET", key]))
        }
        let sequential = Double(operations) / (clock.now - start).seconds

        start = clock.now
        var i = 0
        while i < operations {
            var batch: [RedisCommand] = []
            batch.reserveCapacity(16)
            for j in 0..<16 {
                let key = "bench:key:\((i + j) % 1000)"
                batch.append(j % 2 == 0 ? RedisCommand(["SET", key, value]) : RedisCommand(["GET", key]))
            }
            _ = try await conn.pipeline(batch)
            i += 16
        }
        let pipelined = Double(operations) / (clock.now - start).seconds

        return (sequential, pipelined)
    }

    static func report(_ name: String, ours: Double, baseline: Double?, baselineName: String) {
        let base = baseline.map { String(format: "%10.0f ops/s", $0) } ?? "   (redis-benchmark not found)"
        let ratio = baseline.map { String(format: "ratio %.2f", ours / $0) } ?? ""
        print(
            String(
                format: "  %-24@ %10.0f ops/s   %@: %@   %@", name as NSString, ours, baselineName as NSString, base as NSString, ratio as NSString))
    }

    /// Runs redis-benchmark for SET and GET and returns their mean ops/s.
    static func redisBenchmark(port: Int, password: String?, pipeline: Int, requests: Int) -> Double? {
        var args = [
            "-h", "127.0.0.1", "-p", String(port), "-c", "1", "-P", String(pipeline), "-n", String(requests), "-d", "3", "-t", "set,get", "--csv",
        ]
        if let password { args += ["-a", password, "--no-auth-warning"] }
        guard let out = Shell.run("redis-benchmark", args) else { return nil }
        // CSV lines: "SET","17211.70",... (the second column is requests per second).
        var rates: [Double] = []
        for line in out.split(separator: "\n") {
            let cols = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if cols.count >= 2, cols[0] == "SET" || cols[0] == "GET", let r = Double(cols[1]) { rates.append(r) }
        }
        return rates.isEmpty ? nil : rates.reduce(0, +) / Double(rates.count)
    }
}

/// Runs a command from PATH and returns its standard output.
enum Shell {
    static func run(_ tool: String, _ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
