import ExitBrainDomain

/// `EXIT_MODE`.
public enum ExitMode: String, Sendable, CaseIterable {
    /// Plans are created and executed.
    case exitBrainV3 = "EXIT_BRAIN_V3"
    /// Plans are created but not executed.
    case legacy = "LEGACY"
}

/// `EXIT_EXECUTOR_MODE`.
public enum ExecutorMode: String, Sendable, CaseIterable {
    /// Exit orders are placed.
    case live = "LIVE"
    /// Decisions are published with `shadow: true`; nothing is placed.
    case shadow = "SHADOW"
}

/// `EXIT_BRAIN_V3_LIVE_ROLLOUT`.
public enum Rollout: String, Sendable, CaseIterable {
    case enabled = "ENABLED"
    case disabled = "DISABLED"
}

/// `EXIT_ORDERS`.
public enum ExitOrdersMode: String, Sendable, CaseIterable {
    /// The SL and the TPs rest at the venue as conditional orders the service places, moves and cancels.
    case venue = "VENUE"
    /// The service watches prices and sends reduce-only market orders when a level is crossed.
    case onTrigger = "ON_TRIGGER"
}

/// What decides whether a symbol's exits are live or shadow (docs/contract.md §2), read by both
/// services: the execution service acts on it, the monitor expects resting stops only where it
/// holds.
public struct LiveRules: Sendable {
    /// `EXIT_MODE`.
    public var exitMode: ExitMode
    /// `EXIT_EXECUTOR_MODE`.
    public var executorMode: ExecutorMode
    /// `EXIT_BRAIN_V3_LIVE_ROLLOUT`.
    public var rollout: Rollout
    /// `EXIT_LIVE_ROLLOUT_PCT`.
    public var rolloutPercent: Int
    /// `EXIT_EXECUTOR_KILL_SWITCH`.
    public var killSwitch: Bool

    /// Reads and validates.
    public init(environment env: EnvironmentReader) throws(ConfigurationError) {
        exitMode = try env.word("EXIT_MODE", default: ExitMode.exitBrainV3)
        executorMode = try env.word("EXIT_EXECUTOR_MODE", default: ExecutorMode.shadow)
        rollout = try env.word("EXIT_BRAIN_V3_LIVE_ROLLOUT", default: Rollout.enabled)
        rolloutPercent = try env.int("EXIT_LIVE_ROLLOUT_PCT", default: 100, range: 0...100)
        killSwitch = try env.bool("EXIT_EXECUTOR_KILL_SWITCH", default: false)
    }

    /// Live or shadow for one symbol: live only with the kill switch off, EXIT_BRAIN_V3,
    /// LIVE executor, rollout ENABLED and the symbol inside the rollout share.
    public func mode(for symbol: String) -> ExecutionMode {
        guard !killSwitch, exitMode == .exitBrainV3, executorMode == .live, rollout == .enabled else { return .shadow }
        return Self.bucket(symbol) < rolloutPercent ? .live : .shadow
    }

    /// A stable bucket 0–99 for a symbol (FNV-1a).
    public static func bucket(_ symbol: String) -> Int {
        var h: UInt32 = 2_166_136_261
        for b in symbol.utf8 {
            h ^= UInt32(b)
            h = h &* 16_777_619
        }
        return Int(h % 100)
    }

    /// The word reported in health.
    public var modeWord: String {
        if killSwitch { return "SHADOW (kill switch)" }
        if exitMode == .legacy { return "LEGACY" }
        if executorMode == .shadow || rollout == .disabled { return "SHADOW" }
        return rolloutPercent == 100 ? "LIVE" : "LIVE \(rolloutPercent)%"
    }
}
