import ExitBrainCoordination
import RedisClient

enum BenchSupport {
    /// The `q` quantile (0–1) of `values`, by rank; NaN when there are none.
    static func percentile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
    }

    /// `count` PING round trips from `conn`, one after another, in µs.
    static func pings(_ conn: RedisConnection, count: Int) async throws -> [Double] {
        let clock = ContinuousClock()
        var out: [Double] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            let t = clock.now
            try await conn.send("PING")
            out.append((clock.now - t).secondsValue * 1e6)
        }
        return out
    }

    /// Deletes every key of a benchmark's namespace.
    static func deleteNamespace(_ ns: Namespace, on conn: RedisConnection) async throws {
        var cursor = "0"
        repeat {
            let r = try await conn.send("SCAN", cursor, "MATCH", "\(ns.prefix):*", "COUNT", 1000)
            cursor = r.array?.first?.string ?? "0"
            let keys = r.array?.last?.array?.compactMap(\.bytes) ?? []
            if !keys.isEmpty { try await conn.send(RedisCommand(["DEL"] + keys)) }
        } while cursor != "0"
    }
}
