import ArgumentParser
import ExitBrainCoordination
import ExitBrainDomain
import ExitBrainService
import Foundation
import Logging
import RedisClient

/// Options of the small tools: where Redis is and which namespace.
struct RedisOptions: ParsableArguments {
    @Option(name: .customLong("redis-url"), help: "REDIS_URL (default redis://127.0.0.1:6379/0).")
    var redisURL: String?
    @Option(name: .customLong("redis-namespace"), help: "REDIS_NAMESPACE (default quantum).")
    var namespace: String?

    func resolve() -> CommonConfiguration {
        do {
            return try CommonConfiguration(
                environment: EnvironmentReader(environment(["REDIS_URL": redisURL, "REDIS_NAMESPACE": namespace])), defaultPort: 0)
        } catch {
            exitWithConfigurationError(error)
        }
    }
}

/// `exitbrain signal SYMBOL BUY|SELL --quantity Q [--leverage L]`.
struct SignalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "signal", abstract: "Publish one trade.signal.")

    @OptionGroup var redis: RedisOptions
    @Argument(help: "Symbol, e.g. BTCUSDT.") var symbol: String
    @Argument(help: "BUY (opens or adds to LONG) or SELL (SHORT).") var side: String
    @Option(help: "Quantity in base units.") var quantity: Double
    @Option(help: "Leverage.") var leverage: Double = 1
    @Option(help: "Fill price (paper); default: the last tick.") var price: Double?
    @Option(help: "OPEN (default) or CLOSE.") var action: String = "OPEN"

    func run() async throws {
        let common = redis.resolve()
        guard let orderSide = OrderSide(rawValue: side.uppercased()) else { throw ValidationError("side must be BUY or SELL") }
        guard let act = SignalAction(rawValue: action.uppercased()) else { throw ValidationError("action must be OPEN or CLOSE") }
        guard quantity.isFinite, quantity > 0 else { throw ValidationError("quantity must be a positive number") }
        let conn = RedisConnection(configuration: common.redis)
        let bus = EventBus(redis: conn, namespace: common.namespace, source: "exitbrain-cli")
        let signal = TradeSignal(symbol: symbol.uppercased(), side: orderSide, quantity: quantity, leverage: leverage, price: price, action: act)
        do {
            let receivers = try await bus.publish(.tradeSignal, signal)
            print(
                "published trade.signal \(orderSide.rawValue) \(quantity) \(signal.symbol) on \(common.namespace.channel(.tradeSignal)) (\(receivers) receiver\(receivers == 1 ? "" : "s"))"
            )
        } catch {
            FileHandle.standardError.write(Data("exitbrain: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// `exitbrain plans [SYMBOL]`.
struct PlansCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plans", abstract: "Show active plans and their legs, read from Redis.")

    @OptionGroup var redis: RedisOptions
    @Argument(help: "Only this symbol.") var symbol: String?

    func run() async throws {
        let common = redis.resolve()
        let conn = RedisConnection(configuration: common.redis)
        let store = PlanStore(
            redis: conn, namespace: common.namespace, bus: EventBus(redis: conn, namespace: common.namespace, source: "exitbrain-cli"))
        do {
            let all = try await store.all()
            let plans = all.plans.values.filter { symbol == nil || $0.symbol == symbol!.uppercased() }.sorted {
                $0.key.description < $1.key.description
            }
            print(PlanTable.render(plans))
            for (field, why) in all.corrupt.sorted(by: { $0.key < $1.key }) { print("unreadable \(field): \(why)") }
        } catch {
            FileHandle.standardError.write(Data("exitbrain: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Text tables of plans.
enum PlanTable {
    static func render(_ plans: [ExitPlan]) -> String {
        if plans.isEmpty { return "no active plans" }
        var lines: [String] = []
        for p in plans {
            lines.append(
                "\(p.key)  plan \(p.planId.prefix(8))  v\(p.version)  \(p.strategyId.rawValue)  \(p.source.rawValue)  entry \(fmt(p.entryPrice))  remaining \(fmt(p.remainingQuantity))/\(fmt(p.initialQuantity))"
            )
            for leg in p.legs {
                let pct = String(format: "%+.2f%%", leg.triggerPct * 100)
                let fill = leg.filledPrice.map { " @ \(fmt($0))" } ?? ""
                lines.append(
                    "    \(leg.index)  \(leg.kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(pct.padding(toLength: 8, withPad: " ", startingAt: 0)) \(fmt(leg.triggerPrice).padding(toLength: 12, withPad: " ", startingAt: 0)) size \(String(format: "%3.0f%%", leg.sizePct * 100))  qty \(fmt(leg.quantity).padding(toLength: 10, withPad: " ", startingAt: 0)) \(leg.status.rawValue)\(fill)"
                )
            }
            if p.trailing.enabled {
                lines.append(
                    "    trailing callback \(String(format: "%.2f%%", p.trailing.callbackPct * 100)) activation \(p.trailing.activationPrice.map(fmt) ?? "-") stop \(p.trailing.stopPrice.map(fmt) ?? "-")"
                )
            }
        }
        return lines.joined(separator: "\n")
    }

    static func fmt(_ v: Double) -> String {
        v >= 1000 ? String(format: "%.2f", v) : v >= 1 ? String(format: "%.4f", v) : String(format: "%.6f", v)
    }
}

/// `exitbrain feed`.
struct FeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "feed", abstract: "Publish a seeded random walk of prices and occasional signals.")

    @OptionGroup var redis: RedisOptions
    @Option(help: "Comma-separated symbols.") var symbols: String = "BTCUSDT,ETHUSDT,SOLUSDT"
    @Option(name: .customLong("interval-ms"), help: "Tick period per symbol.") var intervalMs: Int = 500
    @Option(name: .customLong("signal-every-s"), help: "Seconds between signals.") var signalEvery: Double = 10
    @Option(help: "Random seed.") var seed: UInt64 = 42

    func run() async throws {
        let common = redis.resolve()
        LoggingSetup.bootstrap(format: .text, level: .info)
        let names = symbols.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }.filter { !$0.isEmpty }
        var start: [String: Double] = [:]
        for n in names { start[n] = demoSymbols[n] ?? 100 }
        let feed = FeedService(
            redis: common.redis, namespace: common.namespace, symbols: start, interval: .milliseconds(max(10, intervalMs)),
            signalEvery: .milliseconds(Int(max(0.1, signalEvery) * 1000)), seed: seed, logger: Logger(label: "exitbrain.feed"))
        try await ServiceRunner.runGroup([feed], logger: Logger(label: "exitbrain.feed"))
    }
}
