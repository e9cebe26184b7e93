import Foundation
import Synchronization

/// Finds the primary through Redis Sentinel, as Redis's "Sentinel clients" guidelines say (hiredis
/// has no Sentinel support): the sentinels are asked in turn with a short timeout, the first
/// that answers moves to the front of the list, `SENTINEL get-master-addr-by-name` gives the
/// address, and `ROLE` on it must say `master` (a node still being reconfigured is asked again).
enum SentinelResolver {
    /// The sentinels' order per primary name, shared by every connection of the process.
    private static let order = Mutex<[String: [SentinelAddress]]>([:])

    /// A connection to the primary `configuration` names through its sentinels.
    static func connectPrimary(_ configuration: RedisConfiguration, commandTimeout: Bool) throws(RedisError) -> RedisContext {
        let (host, port) = try primaryAddress(configuration)
        let target = configuration.at(host: host, port: port)
        let context = try RedisContext(configuration: target, commandTimeout: commandTimeout)
        let role: RedisReply
        do { role = try context.command(RedisCommand("ROLE")) } catch {
            context.close()
            throw error
        }
        guard case .array(let items) = role, items.first?.string == "master" else {
            context.close()
            throw RedisError(
                .connectionDown,
                "\(target.address), named primary of \(configuration.sentinelMaster), is not a primary yet (ROLE \(role)); asking again")
        }
        return context
    }

    /// The primary's address from the first sentinel that knows it.
    static func primaryAddress(_ configuration: RedisConfiguration) throws(RedisError) -> (host: String, port: Int) {
        let name = configuration.sentinelMaster
        let sentinels = order.withLock { known in
            if known[name] == nil || Set(known[name]!.map(\.description)) != Set(configuration.sentinels.map(\.description)) {
                known[name] = configuration.sentinels
            }
            return known[name]!
        }
        var reached: [String] = []
        var failures: [String] = []
        for sentinel in sentinels {
            let reply: RedisReply
            do {
                let context = try RedisContext(configuration: configuration.sentinel(sentinel))
                defer { context.close() }
                reply = try context.command(RedisCommand("SENTINEL", "get-master-addr-by-name", name))
            } catch {
                failures.append("\(sentinel): \(error.message)")
                continue
            }
            reached.append(sentinel.description)
            guard case .array(let parts) = reply, parts.count == 2, let host = parts[0].string, let portText = parts[1].string,
                let port = Int(portText)
            else { continue }
            order.withLock { known in
                var list = known[name] ?? sentinels
                list.removeAll { $0 == sentinel }
                list.insert(sentinel, at: 0)
                known[name] = list
            }
            return (host, port)
        }
        if reached.isEmpty {
            throw RedisError(.connectionRefused, "no sentinel reachable (\(failures.joined(separator: "; ")))")
        }
        throw RedisError(.connectionDown, "no sentinel knows the primary \(name) (asked \(reached.joined(separator: ", ")))")
    }

    /// True for the error replies that mean this node is not (or no longer) a usable primary:
    /// the connection is dropped and the sentinels are asked again.
    static func meansAskAgain(_ text: String) -> Bool {
        text.hasPrefix("READONLY") || text.hasPrefix("LOADING") || text.hasPrefix("NOREPLICAS") || text.hasPrefix("MASTERDOWN")
    }
}
