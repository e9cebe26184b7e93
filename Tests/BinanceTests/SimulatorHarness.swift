import BinanceVenue
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Support
import Venue
import VenueSimulator

/// A venue simulator in this process on a free port, and adapters pointed at it.
final class SimulatorHarness: Sendable {
    let exchange: SimulatedExchange
    let control: SimulatorControl
    private let tasks: [Task<Void, Never>]

    init(hedge: Bool, silentHold: Duration = .seconds(3)) async throws {
        let port = try FreePort.find()
        control = SimulatorControl(port: port)
        exchange = SimulatedExchange(
            settings: SimulatorSettings(
                apiKey: control.apiKey, apiSecret: control.apiSecret, hedge: hedge, walkBps: 0, markInterval: .milliseconds(200),
                silentHold: silentHold))
        var quiet = Logger(label: "test.sim")
        quiet.logLevel = .critical  // a cancelled server's shutdown is not news
        let app = VenueSimulatorServer.application(exchange: exchange, host: "127.0.0.1", port: port, logger: quiet)
        let group = ServiceGroup(services: [app], logger: quiet)
        let exchange = self.exchange
        tasks = [Task { try? await group.run() }, Task { await exchange.run() }]
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while clock.now < deadline {
            if (try? await LoopbackHTTP.get(port: port, "/fapi/v1/ping"))?.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestProcess.Failure("the simulator did not start on \(port)")
    }

    /// An adapter with this simulator's key (or another), answers waited for `timeout`.
    func venue(
        key: String? = nil, timeout: Duration = .seconds(3), keepalive: Duration = .seconds(1800), lifetime: Duration = .seconds(84_600)
    ) -> BinanceVenue {
        BinanceVenue(
            settings: BinanceSettings(
                restURL: control.restURL, wsURL: control.wsURL, apiKey: key ?? control.apiKey, apiSecret: control.apiSecret,
                requestTimeout: timeout, keepaliveInterval: keepalive, connectionLifetime: lifetime),
            logger: Logger(label: "test.binance"))
    }

    func stop() {
        for task in tasks { task.cancel() }
    }
}

/// Collects a venue's events in the background.
actor EventLog {
    private(set) var events: [VenueEvent] = []
    private var task: Task<Void, Never>?

    static func following(_ venue: some Venue) async -> EventLog {
        let log = EventLog()
        let stream = await venue.events()
        await log.start(stream)
        return log
    }

    private func start(_ stream: AsyncStream<VenueEvent>) {
        task = Task {
            for await event in stream { self.add(event) }
        }
    }

    private func add(_ event: VenueEvent) { events.append(event) }

    /// Waits until `condition` holds for the events so far.
    func wait(_ what: String, within: Duration = .seconds(5), _ condition: ([VenueEvent]) -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + within
        while clock.now < deadline {
            if condition(events) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestProcess.Failure("timed out waiting for \(what); events: \(events.suffix(12))")
    }

    func stop() { task?.cancel() }
}

extension [VenueEvent] {
    /// The order updates of one client id, in order.
    func updates(of id: String) -> [OrderUpdate] {
        compactMap {
            if case .order(let c, let update) = $0, c == id { return update }
            return nil
        }
    }

    /// How many gaps were reported.
    var gaps: Int { filter { if case .gap = $0 { true } else { false } }.count }
}

extension OrderUpdate {
    var isFill: Bool {
        if case .filled = self { return true }
        return false
    }
}
