import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import RedisClient
import ServiceLifecycle

/// Publishes a seeded random walk of prices and occasional signals: the demo's market.
struct FeedService: Service {
    let redis: RedisConfiguration
    let namespace: Namespace
    let symbols: [String: Double]
    let interval: Duration
    let signalEvery: Duration
    let seed: UInt64
    let logger: Logger

    func run() async throws {
        let conn = RedisConnection(configuration: redis, name: "feed")
        let bus = EventBus(redis: conn, namespace: namespace, source: "demo-feed")
        var rng = SplitMix64(seed: seed)
        var prices = symbols
        let clock = ContinuousClock()
        var nextSignal = clock.now + .seconds(1)
        let names = symbols.keys.sorted()
        logger.info("feed starting", metadata: ["symbols": "\(names.joined(separator: ","))", "seed": "\(seed)"])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            for s in names {
                // ±0.35 % steps with a little drift, so ladders are reached within a minute.
                let step = (rng.nextDouble() - 0.48) * 0.007
                prices[s] = Rounding.price(prices[s, default: 100] * (1 + step))
                _ = try? await bus.publish(.marketTick, MarketTick(symbol: s, price: prices[s, default: 100]))
            }
            if clock.now >= nextSignal {
                nextSignal = clock.now + signalEvery
                let s = names[Int(rng.next() % UInt64(names.count))]
                let side: OrderSide = rng.next() % 3 == 0 ? .sell : .buy
                let price = prices[s, default: 100]
                let quantity = Rounding.quantity(500 / price)
                _ = try? await bus.publish(.tradeSignal, TradeSignal(symbol: s, side: side, quantity: quantity, leverage: 10, price: price))
                logger.info("feed signal", metadata: ["symbol": "\(s)", "side": "\(side.rawValue)", "quantity": "\(quantity)", "price": "\(price)"])
            }
            try? await Task.sleep(for: interval)
        }
        await conn.close()
    }
}

/// Default demo symbols and their starting prices.
let demoSymbols: [String: Double] = ["BTCUSDT": 50_000, "ETHUSDT": 3_000, "SOLUSDT": 150]
