import ArgumentParser
import ExecutionService
import ExitBrainService

/// `exitbrain execution`.
struct ExecutionCommand: ServiceCommand {
    typealias Service = ExecutionService
    static let commandName = "execution"
    static let abstract = "Run the execution service: signals in, paper orders and fills, exit plans, exit legs executed."
    var overrides: [String: String?] {
        [
            "EXIT_MODE": exitMode, "EXIT_EXECUTOR_MODE": executorMode, "EXIT_BRAIN_V3_LIVE_ROLLOUT": rollout,
            "EXIT_LIVE_ROLLOUT_PCT": rolloutPct, "EXIT_EXECUTOR_KILL_SWITCH": killSwitch, "EXCHANGE": exchange,
        ]
    }

    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("exit-mode"), help: "EXIT_MODE: EXIT_BRAIN_V3 or LEGACY (default EXIT_BRAIN_V3).")
    var exitMode: String?
    @Option(name: .customLong("exit-executor-mode"), help: "EXIT_EXECUTOR_MODE: LIVE or SHADOW (default SHADOW).")
    var executorMode: String?
    @Option(name: .customLong("exit-brain-v3-live-rollout"), help: "EXIT_BRAIN_V3_LIVE_ROLLOUT: ENABLED or DISABLED (default ENABLED).")
    var rollout: String?
    @Option(name: .customLong("exit-live-rollout-pct"), help: "EXIT_LIVE_ROLLOUT_PCT: 0-100, share of symbols that go live (default 100).")
    var rolloutPct: String?
    @Option(name: .customLong("exit-executor-kill-switch"), help: "EXIT_EXECUTOR_KILL_SWITCH: true forces shadow (default false).")
    var killSwitch: String?
    @Option(name: .customLong("exchange"), help: "EXCHANGE: paper (default paper).")
    var exchange: String?
}
