import ArgumentParser

/// The `exitbrain` executable: one subcommand per service or tool.
@main
struct ExitBrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exitbrain",
        abstract: "Exit management for crypto-futures positions: plans in Redis, two cooperating services.",
        version: ExitBrainVersion.current,
        subcommands: [
            ExecutionCommand.self, MonitorCommand.self, DemoCommand.self, PlansCommand.self, OrdersCommand.self, SignalCommand.self, FeedCommand.self,
            RedisCheckCommand.self, VenueSimCommand.self,
        ]
    )
}

/// The version printed by `--version` and reported in health answers.
enum ExitBrainVersion {
    static let current = "0.1.0"
}
