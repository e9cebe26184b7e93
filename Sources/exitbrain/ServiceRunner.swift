import ArgumentParser
import ExitBrainService
import Foundation
import Logging
import ServiceLifecycle

/// A subcommand that runs one service: the shared options, its own, and nothing else to write.
protocol ServiceCommand: AsyncParsableCommand {
    /// The service it runs.
    associatedtype Service: RunnableService
    /// The subcommand's name (`execution`).
    static var commandName: String { get }
    /// One line for `--help`.
    static var abstract: String { get }
    /// The shared options.
    var common: CommonOptions { get }
    /// Its own flags, by environment variable (nil where not given).
    var overrides: [String: String?] { get }
}

extension ServiceCommand {
    /// The subcommand, named and described by the command.
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: commandName, abstract: abstract) }

    /// Environment and flags → configuration (or exit 78) → logging, metrics, service, HTTP, group.
    func run() async throws {
        try await ServiceRunner.run(Service.self, environment: environment(common.overrides, overrides))
    }
}

/// How every service command starts: environment and flags become a configuration (or exit
/// 78 with one line), logging and metrics are bootstrapped, the service and its HTTP endpoints
/// are made, and everything runs in one service group with graceful shutdown on SIGTERM and SIGINT.
enum ServiceRunner {
    /// The configuration, or exit 78 with one line naming the bad value (after `cleanup`).
    static func configuration<C: ServiceConfiguration>(_ type: C.Type, environment: [String: String], cleanup: () -> Void = {}) -> C {
        do {
            return try C(environment: environment)
        } catch {
            cleanup()
            exitWithConfigurationError(error)
        }
    }

    /// Logging (text or JSON on standard error) and the Prometheus registry, once per process.
    static func bootstrap(_ common: CommonConfiguration) {
        LoggingSetup.bootstrap(format: common.logFormat, level: common.logLevel)
        _ = MetricsSetup.registry
    }

    /// A service and its HTTP endpoints (on `port`, or the configured one).
    static func parts<S: RunnableService>(_ type: S.Type, config: S.Configuration, port: Int? = nil) -> (service: S, http: any Service) {
        let service = S(config: config, version: ExitBrainVersion.current, logger: Logger(label: S.identity.logLabel))
        let http = HTTPEndpoints.application(
            source: service, host: config.common.httpHost, port: port ?? config.common.httpPort,
            logger: Logger(label: S.identity.logLabel + ".http"))
        return (service, http)
    }

    /// The whole life of `exitbrain execution` and `exitbrain monitor`.
    static func run<S: RunnableService>(_ type: S.Type, environment: [String: String]) async throws {
        let config = configuration(S.Configuration.self, environment: environment)
        bootstrap(config.common)
        let (service, http) = parts(S.self, config: config)
        try await runGroup([service, http], logger: Logger(label: S.identity.logLabel))
    }

    /// Runs services in one group: any of them ending shuts the group down gracefully, and so
    /// do SIGTERM and SIGINT.
    static func runGroup(_ services: [any Service], logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: services.map {
                    .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
                },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ))
        try await group.run()
    }
}
