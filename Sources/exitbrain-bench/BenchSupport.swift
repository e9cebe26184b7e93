import ExitBrainCoordination
import RedisClient

enum BenchSupport {
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
