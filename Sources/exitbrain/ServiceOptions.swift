import ArgumentParser
import ExitBrainService
import Foundation

/// Options both services take (CommonConfiguration's settings); each names its environment
/// variable (a flag wins over it).
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("redis-url"), help: "REDIS_URL: redis://[user:password@]host:port/db (default redis://127.0.0.1:6379/0).")
    var redisURL: String?
    @Option(name: .customLong("redis-namespace"), help: "REDIS_NAMESPACE: prefix of every key and channel (default quantum).")
    var namespace: String?
    @Option(name: .customLong("http-host"), help: "HTTP_HOST: health and metrics bind address (default 127.0.0.1).")
    var httpHost: String?
    @Option(name: .customLong("http-port"), help: "HTTP_PORT: health and metrics port (execution 8002, monitor 8003).")
    var httpPort: String?
    @Option(
        name: .customLong("heartbeat-interval-s"), help: "HEARTBEAT_INTERVAL_S: heartbeat period; a peer is DOWN after 3 missed beats (default 2).")
    var heartbeatInterval: String?
    @Option(name: .customLong("log-level"), help: "LOG_LEVEL: trace, debug, info, notice, warning, error, critical (default info).")
    var logLevel: String?
    @Option(name: .customLong("log-format"), help: "LOG_FORMAT: text or json (default text).")
    var logFormat: String?
    @Option(name: .customLong("exit-brain-profile"), help: "EXIT_BRAIN_PROFILE: DEFAULT or CHALLENGE_100, for every plan (default DEFAULT).")
    var profile: String?
    @Option(name: .customLong("exit-brain-v3-enabled"), help: "EXIT_BRAIN_V3_ENABLED: false creates and executes no plans (default true).")
    var enabled: String?
    @Option(name: .customLong("paper-fee-rate"), help: "PAPER_FEE_RATE: fee per side as a fraction, for breakeven and PnL (default 0.0004).")
    var feeRate: String?

    var overrides: [String: String?] {
        [
            "REDIS_URL": redisURL, "REDIS_NAMESPACE": namespace, "HTTP_HOST": httpHost, "HTTP_PORT": httpPort,
            "HEARTBEAT_INTERVAL_S": heartbeatInterval, "LOG_LEVEL": logLevel, "LOG_FORMAT": logFormat,
            "EXIT_BRAIN_PROFILE": profile, "EXIT_BRAIN_V3_ENABLED": enabled, "PAPER_FEE_RATE": feeRate,
        ]
    }
}

/// The process environment with flags laid over it.
func environment(_ overrides: [String: String?]...) -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    for o in overrides {
        for (k, v) in o { if let v { env[k] = v } }
    }
    return env
}

/// Prints a configuration error as one line and exits 78.
func exitWithConfigurationError(_ error: ConfigurationError) -> Never {
    FileHandle.standardError.write(Data("exitbrain: \(error.description)\n".utf8))
    exit(ConfigurationError.exitCode)
}
