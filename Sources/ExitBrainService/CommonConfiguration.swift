import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import RedisClient

/// Log output format.
public enum LogFormat: String, Sendable, CaseIterable {
    /// One readable line per message.
    case text
    /// One JSON object per line.
    case json
}

/// Log levels accepted in `LOG_LEVEL`.
public enum LogLevelWord: String, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }
}

/// What both services read: Redis, namespace, HTTP, heartbeats, logging, and the settings that
/// shape every plan either service makes: the profile, `EXIT_BRAIN_V3_ENABLED` and the fee (docs/contract.md §2).
public struct CommonConfiguration: Sendable {
    /// Redis connection settings (from `REDIS_URL`).
    public var redis: RedisConfiguration
    /// Key and channel prefix (`REDIS_NAMESPACE`).
    public var namespace: Namespace
    /// HTTP bind host (`HTTP_HOST`).
    public var httpHost: String
    /// HTTP port (`HTTP_PORT`).
    public var httpPort: Int
    /// Heartbeat period (`HEARTBEAT_INTERVAL_S`).
    public var heartbeatInterval: Duration
    /// `LOG_LEVEL`.
    public var logLevel: Logger.Level
    /// `LOG_FORMAT`.
    public var logFormat: LogFormat
    /// `EXIT_BRAIN_PROFILE`: the planner's profile, for plans at entry and retroactive ones.
    public var profile: ExitProfile
    /// `EXIT_BRAIN_V3_ENABLED`: false means no plans are created (at entry or retroactively) or executed.
    public var exitBrainEnabled: Bool
    /// `PAPER_FEE_RATE` (default 0.0004 per side): breakeven stops and realized PnL, in both services.
    public var feeRate: Double
    /// What makes a symbol's exits live (`EXIT_MODE`, `EXIT_EXECUTOR_MODE`, rollout, kill switch).
    public var live: LiveRules
    /// `EXIT_ORDERS`: exits resting at the venue, or sent when a level is crossed.
    public var exitOrders: ExitOrdersMode
    /// `EXECUTION_BUCKETS`: symbols are split into this many buckets, leased by execution instances.
    public var buckets: BucketMap
    /// `LEASE_TTL_S`: a bucket lease's time; a standby takes over within it.
    public var leaseTTL: Duration

    /// Reads and validates; `defaultPort` is the service's own HTTP port.
    public init(environment env: EnvironmentReader, defaultPort: Int) throws(ConfigurationError) {
        let url = env.string("REDIS_URL", default: RedisConfiguration.defaultURL)
        do {
            redis = try RedisConfiguration(url: url)
        } catch {
            throw ConfigurationError(
                variable: "REDIS_URL", value: RedisConfiguration.mask(url),
                allowed: "redis://[user:password@]host:port/db (\(error.message))")
        }
        if let list = env.optional("REDIS_SENTINELS"), !list.isEmpty {
            do { redis.sentinels = try SentinelAddress.parseList(list) } catch {
                throw ConfigurationError(variable: "REDIS_SENTINELS", value: list, allowed: "host:port[,host:port…] (\(error.message))")
            }
            let master = env.string("REDIS_SENTINEL_MASTER", default: "exitbrain")
            guard !master.isEmpty, master.utf8.count <= 128, !master.contains(" ") else {
                throw ConfigurationError(variable: "REDIS_SENTINEL_MASTER", value: master, allowed: "the primary's name at the sentinels")
            }
            redis.sentinelMaster = master
            redis.sentinelPassword = env.optional("REDIS_SENTINEL_PASSWORD").flatMap { $0.isEmpty ? nil : $0 }
        }
        redis.replicaWaitMilliseconds = try env.int("REDIS_WAIT_MS", default: 100, range: 1...10_000)
        let ns = env.string("REDIS_NAMESPACE", default: "quantum")
        do {
            namespace = try Namespace(ns)
        } catch {
            throw ConfigurationError(variable: "REDIS_NAMESPACE", value: ns, allowed: "1-64 ASCII characters without spaces or * ? [")
        }
        httpHost = env.string("HTTP_HOST", default: "127.0.0.1")
        httpPort = try env.int("HTTP_PORT", default: defaultPort, range: 0...65535)
        let hb = try env.double("HEARTBEAT_INTERVAL_S", default: 2, range: 0.05...3600)
        heartbeatInterval = .milliseconds(Int(hb * 1000))
        logLevel = try env.word("LOG_LEVEL", default: LogLevelWord.info).level
        logFormat = try env.word("LOG_FORMAT", default: LogFormat.text)
        profile = try env.word("EXIT_BRAIN_PROFILE", default: ExitProfile.default)
        exitBrainEnabled = try env.bool("EXIT_BRAIN_V3_ENABLED", default: true)
        feeRate = try env.double("PAPER_FEE_RATE", default: 0.0004, range: 0...0.01)
        live = try LiveRules(environment: env)
        exitOrders = try env.word("EXIT_ORDERS", default: ExitOrdersMode.venue)
        buckets = BucketMap(count: try env.int("EXECUTION_BUCKETS", default: 16, range: 1...1024))
        leaseTTL = .milliseconds(Int(try env.double("LEASE_TTL_S", default: 5, range: 0.5...600) * 1000))
    }
}
