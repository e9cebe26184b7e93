import ArgumentParser
import ChildProcesses
import ExecutionService
import ExitBrainCoordination
import ExitBrainDomain
import ExitBrainService
import Foundation
import Logging
import MonitoringService
import RedisClient
import ServiceLifecycle
import VenueSimulator

/// `exitbrain demo`: both services and a feed, against a local Redis it starts itself when
/// `REDIS_URL` is unset, with a live summary.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run both services and a price/signal feed; starts its own redis-server when REDIS_URL is unset."
    )

    @Option(help: "Stop by itself after this many seconds (default: run until Ctrl-C).") var duration: Double?
    @Option(name: .customLong("execution-port"), help: "Execution service HTTP port.") var executionPort: Int = 8002
    @Option(name: .customLong("monitor-port"), help: "Monitoring service HTTP port.") var monitorPort: Int = 8003
    @Option(help: "Feed random seed.") var seed: UInt64 = 42
    @Option(name: .customLong("signal-every-s"), help: "Seconds between feed signals.") var signalEvery: Double = 4
    @Option(name: .customLong("summary-every-s"), help: "Seconds between summaries.") var summaryEvery: Double = 3
    @Option(help: "paper (the paper venue, book in Redis) or binance-sim (an in-process venue simulator, EXCHANGE=binance against it).")
    var exchange: DemoExchange = .paper

    func run() async throws {
        var env = ProcessInfo.processInfo.environment
        var server: RedisServerProcess?
        var directory: String?
        if env["REDIS_URL"] == nil {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("exitbrain-demo-\(getpid())").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let s: RedisServerProcess
            do {
                s = RedisServerProcess(port: try LoopbackPort.free(), directory: dir, arguments: ["--save", "", "--appendonly", "no"])
                try await s.start()
            } catch {
                FileHandle.standardError.write(Data("exitbrain: cannot start redis-server: \(error)\n".utf8))
                throw ExitCode(1)
            }
            server = s
            directory = dir
            env["REDIS_URL"] = "redis://127.0.0.1:\(s.port)/0"
        }
        var simulator: [any Service] = []
        if exchange == .binanceSim {
            // The simulator on a free loopback port, and both services pointed at it.
            let port = try LoopbackPort.free()
            let key = "demo-key-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let secret = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
            let symbols = demoSymbols.sorted { $0.key < $1.key }.map { (symbol: $0.key, price: Decimal(rounding: $0.value)) }
            simulator = VenueSimCommand.services(
                settings: SimulatorSettings(apiKey: key, apiSecret: secret, hedge: true, symbols: symbols, seed: seed, walkBps: 25),
                host: "127.0.0.1", port: port)
            for (k, v) in [
                "EXCHANGE": "binance", "BINANCE_REST_URL": "http://127.0.0.1:\(port)", "BINANCE_WS_URL": "ws://127.0.0.1:\(port)",
                "BINANCE_API_KEY": key, "BINANCE_API_SECRET": secret,
            ] {
                env[k] = v
            }
        }
        // The reference deployment's values (docs/contract.md §2), unless set in the environment.
        for (k, v) in [
            "EXIT_MODE": "EXIT_BRAIN_V3", "EXIT_EXECUTOR_MODE": "LIVE", "EXIT_BRAIN_V3_LIVE_ROLLOUT": "ENABLED",
            "EXIT_BRAIN_PROFILE": "DEFAULT", "EXCHANGE": "paper", "MONITOR_INTERVAL_S": "2",
        ] where env[k] == nil {
            env[k] = v
        }
        defer {
            // Redis is stopped (and waited for) below; on an error path it gets SIGTERM here.
            server?.terminate()
            if let directory { try? FileManager.default.removeItem(atPath: directory) }
        }
        var execEnv = env
        execEnv["HTTP_PORT"] = String(executionPort)
        var monEnv = env
        monEnv["HTTP_PORT"] = String(monitorPort)
        let execConfig = ServiceRunner.configuration(ExecutionConfiguration.self, environment: execEnv, cleanup: { server?.terminate() })
        let monConfig = ServiceRunner.configuration(MonitorConfiguration.self, environment: monEnv, cleanup: { server?.terminate() })
        ServiceRunner.bootstrap(execConfig.common)
        let logger = Logger(label: "exitbrain.demo")
        let (execution, executionHTTP) = ServiceRunner.parts(ExecutionService.self, config: execConfig, port: executionPort)
        let (monitor, monitorHTTP) = ServiceRunner.parts(MonitoringService.self, config: monConfig, port: monitorPort)
        let feed = FeedService(
            redis: execConfig.common.redis, namespace: execConfig.common.namespace, symbols: demoSymbols, interval: .milliseconds(500),
            signalEvery: .milliseconds(Int(max(0.5, signalEvery) * 1000)), seed: seed, logger: Logger(label: "exitbrain.feed"))
        let summary = SummaryService(
            execution: execution, monitor: monitor, redis: execConfig.common.redis, namespace: execConfig.common.namespace,
            every: .milliseconds(Int(max(0.5, summaryEvery) * 1000)), duration: duration.map { .milliseconds(Int($0 * 1000)) },
            feeRate: execConfig.common.feeRate)
        let host = execConfig.common.httpHost
        FileHandle.standardOutput.write(
            Data(
                """
                ExitBrain demo: redis \(execConfig.common.redis) namespace \(execConfig.common.namespace), mode \(execConfig.modeWord), exchange \(exchange.rawValue)\(execConfig.binance.map { " at " + $0.restURL + " (state: curl -s " + $0.restURL + "/_sim/state)" } ?? "")
                  health:   curl -s http://\(host):\(executionPort)/health   curl -s http://\(host):\(monitorPort)/health
                  plans:    redis-cli -h \(execConfig.common.redis.host) -p \(execConfig.common.redis.port) HGETALL \(execConfig.common.namespace.plans)
                  events:   redis-cli -h \(execConfig.common.redis.host) -p \(execConfig.common.redis.port) PSUBSCRIBE '\(execConfig.common.namespace.allEvents)'
                  stop:     Ctrl-C\(duration.map { " (or wait \(Int($0)) s)" } ?? "")

                """.utf8))
        try await ServiceRunner.runGroup(simulator + [execution, executionHTTP, monitor, monitorHTTP, feed, summary], logger: logger)
        await server?.stop()
        print("demo stopped")
    }
}

/// The demo's venue.
enum DemoExchange: String, ExpressibleByArgument, CaseIterable {
    case paper
    case binanceSim = "binance-sim"
}

/// Prints a summary every few seconds; ends the demo after `duration`.
struct SummaryService: Service {
    let execution: ExecutionService
    let monitor: MonitoringService
    let redis: RedisConfiguration
    let namespace: Namespace
    let every: Duration
    let duration: Duration?
    let feeRate: Double

    func run() async throws {
        let conn = RedisConnection(configuration: redis, name: "summary")
        let bus = EventBus(redis: conn, namespace: namespace, source: "demo")
        let redisBook = RedisBook(
            plans: PlanStore(redis: conn, namespace: namespace, bus: bus),
            positions: PositionStore(redis: conn, namespace: namespace), bus: bus)
        let store = redisBook.plans
        let positions = redisBook.positions
        let executor = PlanExecutor(feeRate: feeRate)
        let clock = ContinuousClock()
        let end = duration.map { clock.now + $0 }
        while !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: every)
            if Task.isShuttingDownGracefully { break }
            let plans = (try? await store.all().plans) ?? [:]
            let book = (try? await positions.all().positions) ?? [:]
            let history = (try? await store.history(count: 10_000)) ?? []
            let pnl = history.reduce(0.0) { $0 + executor.realizedPnl(plan: $1) }
            let fills = (try? await redisBook.orderRecords().count) ?? 0
            let eh = await execution.healthReport().status.rawValue
            let mh = await monitor.healthReport().status.rawValue
            var out =
                "\n── \(Timestamp.format(Date()))  positions \(book.count)  plans \(plans.count)  closed \(history.count)  orders \(fills)  realized PnL \(String(format: "%.4f", pnl))  health: execution \(eh), monitor \(mh)\n"
            for p in plans.values.sorted(by: { $0.key.description < $1.key.description }) {
                let legs = p.legs.map { "\($0.kind.rawValue)\($0.index)@\(PlanTable.fmt($0.triggerPrice))\($0.status == .filled ? "✓" : "")" }.joined(
                    separator: " ")
                let mark = book[p.key].map { PlanTable.fmt($0.markPrice) } ?? "-"
                out +=
                    "   \(p.key.description.padding(toLength: 14, withPad: " ", startingAt: 0)) v\(p.version) qty \(PlanTable.fmt(p.remainingQuantity)) entry \(PlanTable.fmt(p.entryPrice)) mark \(mark)  \(legs)\n"
            }
            FileHandle.standardOutput.write(Data(out.utf8))
            if let end, clock.now >= end { break }
        }
        await conn.close()
    }
}
