import BinanceProtocol
import BinanceVenue
import ChildProcesses
import ExecutionService
import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Hummingbird
import Logging
import RedisClient
import ServiceLifecycle
import Venue
import VenueSimulator

/// The Binance adapter's figures (issue 14), each beside its baseline: the in-process cost of
/// building and signing one order request beside the HMAC alone; and, against the venue
/// simulator on loopback, an entry's fill → its stop resting at the venue, beside the
/// simulator's own signed round trip and Redis's PING, timed the same way in the same run.
enum BinanceBench {
    static func run(config: RedisConfiguration, signals: Int) async throws {
        signing()
        try await entryToRestingStop(config: config, signals: signals)
    }

    static func signing() {
        let rules = SymbolRules(
            symbol: "BTCUSDT", tickSize: Decimal(string: "0.1")!, stepSize: Decimal(string: "0.001")!, minQuantity: Decimal(string: "0.001")!,
            maxQuantity: 1000, minNotional: 100)
        let request = OrderRequest(
            clientOrderId: "eb-5636dd436f634e8cb5f8-3-2", symbol: "BTCUSDT", side: .sell, positionSide: .long, purpose: .exit, type: .stopMarket,
            quantity: Decimal(string: "0.010")!, triggerPrice: Decimal(rounding: 48750.04))
        let signer = RequestSigner(secret: "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j")
        let n = 50_000
        let clock = ContinuousClock()
        var sink = 0
        let payload =
            (try? BinanceVenue.parameters(of: request, rules: rules, hedge: true, workingType: "MARK_PRICE"))?.params
            .signed(timestamp: 1_764_600_000_000, recvWindow: 5000, signer: signer) ?? ""
        var t = clock.now
        for _ in 0..<n { sink &+= signer.signature(of: payload).utf8.count }
        let hmacUs = (clock.now - t).secondsValue * 1e6 / Double(n)
        t = clock.now
        for i in 0..<n {
            guard let built = try? BinanceVenue.parameters(of: request, rules: rules, hedge: true, workingType: "MARK_PRICE") else { continue }
            sink &+= built.params.signed(timestamp: 1_764_600_000_000 + Int64(i), recvWindow: 5000, signer: signer).utf8.count
        }
        let wholeUs = (clock.now - t).secondsValue * 1e6 / Double(n)
        print("binance (adapter in process)")
        print(
            String(
                format:
                    "  one STOP_MARKET request built (decimal text on tick and step) and signed: %.2f µs; HMAC-SHA256 of its %d bytes alone: %.2f µs (%d)",
                wholeUs, payload.utf8.count, hmacUs, sink % 2))
    }

    /// Signals whose entries fill at the simulator; the venue wrapper notes when the entry's
    /// answer came and when the SL's did.
    static func entryToRestingStop(config: RedisConfiguration, signals: Int) async throws {
        let port = try LoopbackPort.free()
        var quiet = Logger(label: "bench.sim")
        quiet.logLevel = .critical
        let symbols = (0..<signals).map { (symbol: "B\($0)USDT", price: Decimal(100)) }
        let exchange = SimulatedExchange(
            settings: SimulatorSettings(apiKey: "bench-key", apiSecret: "bench-secret", hedge: true, symbols: symbols, walkBps: 0))
        let app = VenueSimulatorServer.application(exchange: exchange, host: "127.0.0.1", port: port, logger: quiet)
        let group = ServiceGroup(services: [app], logger: quiet)
        let server = Task { try? await group.run() }
        defer { server.cancel() }
        try await Task.sleep(for: .milliseconds(300))

        let conn = RedisConnection(configuration: config, name: "bench-binance")
        let ns = try Namespace("bench-binance-\(getpid())")
        let book = VenueBench.book(conn, ns)
        let env = [
            "EXIT_EXECUTOR_MODE": "LIVE", "REDIS_NAMESPACE": ns.prefix, "REDIS_URL": "redis://\(config.host):\(config.port)/\(config.database)",
            "EXCHANGE": "binance", "BINANCE_REST_URL": "http://127.0.0.1:\(port)", "BINANCE_WS_URL": "ws://127.0.0.1:\(port)",
            "BINANCE_API_KEY": "bench-key", "BINANCE_API_SECRET": "bench-secret",
        ]
        let configuration = try ExecutionConfiguration(environment: env)
        guard let settings = configuration.binance else { return }
        let binance = BinanceVenue(settings: settings, logger: quiet)
        let timed = TimedVenue(binance, book: book)
        let engine = ExecutionEngine(config: configuration, book: book, venue: timed, logger: quiet)
        let worker = Task { await engine.workOrders() }
        defer { worker.cancel() }
        // Baselines: the simulator's own signed round trip through the same client, and PING.
        let key = PositionKey(symbol: "B0USDT", side: .long)
        _ = try await binance.position(key)
        let clock = ContinuousClock()
        var rest: [Double] = []
        for _ in 0..<200 {
            let t = clock.now
            _ = try await binance.position(key)
            rest.append((clock.now - t).secondsValue * 1e3)
        }
        let pingMs = try await VenueBench.ping(conn)
        var latency: [Double] = []
        var trips: [Int] = []
        for i in 0..<signals {
            timed.reset()
            let meta = EnvelopeMeta(id: "bench-bn-\(i)", type: "trade.signal", source: "bench", ts: "")
            try await engine.handleSignal(TradeSignal(symbol: "B\(i)USDT", side: .buy, quantity: 1, leverage: 10, price: 100), meta: meta)
            await VenueBench.idle(engine)
            let marks = timed.marks
            guard let entry = marks.first(where: { $0.what == "entry" }), let stop = marks.first(where: { $0.what == "stop" }) else { continue }
            latency.append((stop.at - entry.at).secondsValue * 1e3)
            trips.append(stop.trips - entry.trips)
        }
        let p = BenchSupport.percentile
        print(String(format: "binance (EXCHANGE=binance against exitbrain venue-sim on loopback, %d signals)", signals))
        print(
            String(format: "  the simulator's own signed REST round trip (positionRisk): p50 %.3f ms; Redis PING p50 %.3f ms", p(rest, 0.5), pingMs))
        print(
            String(
                format:
                    "  entry fill answered → its SL resting at the venue: p50 %.3f ms, p99 %.3f ms (%.1f× the REST round trip; %d Redis round trips)",
                p(latency, 0.5), p(latency, 0.99), p(latency, 0.5) / p(rest, 0.5), trips.sorted()[trips.count / 2]))
        await binance.shutdown()
        try await BenchSupport.deleteNamespace(ns, on: conn)
        await conn.close()
    }
}
