import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient

/// An outside client's view of a signal executor under one namespace: it publishes
/// `trade.signal`s and times the `exit_plan.created` it sees for each, one after another
/// (latency) or all at once (a burst), and notes the `exit_leg.triggered` it sees. The same
/// probe measures the execution service and the Python reference, so their figures compare.
final class SignalProbe: Sendable {
    let conn: RedisConnection
    let bus: EventBus
    let namespace: Namespace
    /// `exit_plan.created`, by symbol.
    let created: EventArrivals
    /// `exit_leg.triggered`, by symbol.
    let triggered: EventArrivals

    init(config: RedisConfiguration, namespace: Namespace) async {
        self.namespace = namespace
        conn = RedisConnection(configuration: config, name: "bench-probe")
        bus = EventBus(redis: conn, namespace: namespace, source: "bench")
        created = await EventArrivals(config: config, channel: namespace.channel(.planCreated), field: "symbol")
        triggered = await EventArrivals(config: config, channel: namespace.channel(.legTriggered), field: "key")
    }

    /// PING round trips from this client, in µs.
    func pings(_ count: Int = 1000) async throws -> [Double] { try await BenchSupport.pings(conn, count: count) }

    /// Signal → `exit_plan.created` seen here, in µs, for `count` signals one after another.
    func latency(_ count: Int, prefix: String) async throws -> [Double] {
        let clock = ContinuousClock()
        var out: [Double] = []
        for i in 0..<count {
            let symbol = "\(prefix)\(i)USDT"
            let t = clock.now
            try await bus.publish(
                .tradeSignal, TradeSignal(symbol: symbol, side: i % 2 == 0 ? .buy : .sell, quantity: 0.01, leverage: 10, price: 50_000))
            guard let at = await created.wait(for: symbol, timeout: .seconds(5)) else { throw BenchError("no exit_plan.created for \(symbol)") }
            out.append((at - t).secondsValue * 1e6)
        }
        return out
    }

    /// `count` signals for new symbols published at once (pipelines of 1000): the time from the
    /// first publish until the plans hash holds `count` more plans (at most `limit`), and how
    /// many it holds more then. With `ordersEach`, also the time until the paper venue's book
    /// holds `ordersEach` more orders a signal (the entry and the resting exits: the positions
    /// protected at the venue).
    func burst(
        _ count: Int, prefix: String, ordersEach: Int? = nil, limit: Duration = .seconds(120)
    ) async throws -> (seconds: Double, planned: Int, protectedSeconds: Double?) {
        let before = Int(try await conn.send("HLEN", namespace.plans).int ?? 0)
        let ordersBefore = Int(try await conn.send("HLEN", namespace.paperOrders).int ?? 0)
        var commands: [RedisCommand] = []
        commands.reserveCapacity(count)
        for i in 0..<count {
            commands.append(
                RedisCommand([
                    "PUBLISH", namespace.channel(.tradeSignal),
                    try bus.envelope(.tradeSignal, TradeSignal(symbol: "\(prefix)\(i)USDT", side: .buy, quantity: 0.01, leverage: 10, price: 100)),
                ]))
        }
        let clock = ContinuousClock()
        let start = clock.now
        for chunk in stride(from: 0, to: count, by: 1000) { _ = try await conn.pipeline(Array(commands[chunk..<min(chunk + 1000, count)])) }
        let planned = try await growth(of: namespace.plans, from: before, to: before + count, since: start, limit: limit)
        guard let ordersEach else { return (planned.seconds, planned.count - before, nil) }
        let orders = try await growth(
            of: namespace.paperOrders, from: ordersBefore, to: ordersBefore + ordersEach * count, since: start, limit: limit)
        return (planned.seconds, planned.count - before, orders.count >= ordersBefore + ordersEach * count ? orders.seconds : nil)
    }

    /// Waits until the hash `key` holds `target` fields, or nothing more came for 5 s (what is
    /// lost never comes), or `limit` is over: the time from `start` to its last change, and its length then.
    func growth(
        of key: String, from initial: Int, to target: Int, since start: ContinuousClock.Instant, limit: Duration
    ) async throws -> (
        seconds: Double, count: Int
    ) {
        let clock = ContinuousClock()
        var count = initial
        var lastChange = clock.now
        while clock.now - start < limit {
            let now = Int(try await conn.send("HLEN", key).int ?? 0)
            if now != count { lastChange = clock.now }
            count = now
            if count >= target || clock.now - lastChange > .seconds(5) { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        return ((lastChange - start).secondsValue, count)
    }

    func close() async {
        created.close()
        triggered.close()
        await conn.close()
    }
}
