import ArgumentParser
import ExitBrainService
import Foundation
import Logging
import ServiceLifecycle
import Venue
import VenueSimulator

/// `exitbrain venue-sim`: a Binance USD-M futures simulator on loopback (REST, user data and
/// mark price streams, signatures, error codes, conditional orders on its own price walk, and
/// `/_sim/…` controls), for the demo, the compose `sim` profile and the tests.
struct VenueSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "venue-sim",
        abstract: "Serve a Binance USD-M futures simulator on 127.0.0.1 (REST and streams, faults on /_sim/faults)."
    )

    @Option(help: "Port to listen on.") var port: Int = 9100
    @Option(help: "Address to listen on (loopback unless a container needs more).") var host: String = "127.0.0.1"
    @Option(name: .customLong("api-key"), help: "The API key it accepts (env VENUE_SIM_API_KEY, else BINANCE_API_KEY).") var apiKey: String?
    @Option(name: .customLong("api-secret"), help: "The secret requests are signed with (env VENUE_SIM_API_SECRET, else BINANCE_API_SECRET).")
    var apiSecret: String?
    @Flag(help: "Hedge mode (positionSide LONG/SHORT) instead of one-way.") var hedge = false
    @Option(help: "Symbols and first prices, SYMBOL=PRICE[,…].") var symbols: String = "BTCUSDT=50000,ETHUSDT=3000"
    @Option(help: "Seed of the price walk.") var seed: UInt64 = 1
    @Option(name: .customLong("walk-bps"), help: "Size of a price walk step each second, in basis points (0: prices move only by /_sim/price).")
    var walkBps: Double = 5
    @Option(name: .customLong("mark-interval-ms"), help: "How often the walk steps and mark prices are pushed.") var markIntervalMs: Int = 1000

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let key = apiKey ?? env["VENUE_SIM_API_KEY"] ?? env["BINANCE_API_KEY"], !key.isEmpty,
            let secret = apiSecret ?? env["VENUE_SIM_API_SECRET"] ?? env["BINANCE_API_SECRET"], !secret.isEmpty
        else {
            FileHandle.standardError.write(
                Data("exitbrain venue-sim: --api-key and --api-secret (or VENUE_SIM_API_KEY/VENUE_SIM_API_SECRET) are required\n".utf8))
            throw ExitCode(78)
        }
        let parsed: [(symbol: String, price: Decimal)]
        do { parsed = try SimulatorSettings.parseSymbols(symbols) } catch {
            FileHandle.standardError.write(Data("exitbrain venue-sim: \(error)\n".utf8))
            throw ExitCode(78)
        }
        guard (1...65535).contains(port), walkBps >= 0, walkBps <= 1000, markIntervalMs >= 10 else {
            FileHandle.standardError.write(Data("exitbrain venue-sim: port 1-65535, walk-bps 0-1000, mark-interval-ms ≥ 10\n".utf8))
            throw ExitCode(78)
        }
        LoggingSetup.bootstrap(
            format: env["LOG_FORMAT"] == "json" ? .json : .text, level: Logger.Level(rawValue: env["LOG_LEVEL"] ?? "info") ?? .info)
        let settings = SimulatorSettings(
            apiKey: key, apiSecret: secret, hedge: hedge, symbols: parsed, seed: seed, walkBps: walkBps,
            markInterval: .milliseconds(markIntervalMs))
        let services = Self.services(settings: settings, host: host, port: port)
        let logger = Logger(label: "exitbrain.venue-sim")
        logger.info("venue simulator listening", metadata: ["address": "\(host):\(port)", "hedge": "\(hedge)", "symbols": "\(symbols)"])
        try await ServiceRunner.runGroup(services, logger: logger)
    }

    /// The simulator's services: its HTTP/WebSocket server and its price walk.
    static func services(settings: SimulatorSettings, host: String, port: Int) -> [any Service] {
        let exchange = SimulatedExchange(settings: settings)
        let app = VenueSimulatorServer.application(exchange: exchange, host: host, port: port, logger: Logger(label: "exitbrain.venue-sim.http"))
        return [app, SimulatorWalk(exchange: exchange)]
    }
}

/// The simulator's walk as a service.
struct SimulatorWalk: Service {
    let exchange: SimulatedExchange
    func run() async throws {
        try await cancelWhenGracefulShutdown { await exchange.run() }
    }
}
