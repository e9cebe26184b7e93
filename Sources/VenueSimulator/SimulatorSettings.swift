import Foundation
import Venue

/// How `exitbrain venue-sim` runs.
public struct SimulatorSettings: Sendable {
    /// The API key it accepts.
    public var apiKey: String
    /// The secret requests must be signed with.
    public var apiSecret: String
    /// Hedge mode (`positionSide` LONG/SHORT) instead of one-way.
    public var hedge: Bool
    /// Symbols and their first prices.
    public var symbols: [(symbol: String, price: Decimal)]
    /// Seed of the price walk.
    public var seed: UInt64
    /// Size of one walk step, in basis points of the price (0: prices move only by `/_sim/price`).
    public var walkBps: Double
    /// How often the walk steps and mark prices are pushed.
    public var markInterval: Duration
    /// How long an answer withheld by the `silent` fault waits before it is dropped.
    public var silentHold: Duration

    /// Settings.
    public init(
        apiKey: String, apiSecret: String, hedge: Bool = false, symbols: [(symbol: String, price: Decimal)] = Self.defaultSymbols,
        seed: UInt64 = 1, walkBps: Double = 0, markInterval: Duration = .seconds(1), silentHold: Duration = .seconds(60)
    ) {
        self.apiKey = apiKey
        self.apiSecret = apiSecret
        self.hedge = hedge
        self.symbols = symbols
        self.seed = seed
        self.walkBps = walkBps
        self.markInterval = markInterval
        self.silentHold = silentHold
    }

    /// BTCUSDT at 50000 and ETHUSDT at 3000.
    public static let defaultSymbols: [(symbol: String, price: Decimal)] = [("BTCUSDT", 50000), ("ETHUSDT", 3000)]

    /// Parses `BTCUSDT=50000,ETHUSDT=3000`.
    public static func parseSymbols(_ text: String) throws(SimulatorError) -> [(symbol: String, price: Decimal)] {
        var out = [(symbol: String, price: Decimal)]()
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            let symbol = parts.first.map { String($0).uppercased() } ?? ""
            guard parts.count == 2, !symbol.isEmpty, symbol.allSatisfy({ $0.isLetter || $0.isNumber }),
                let price = Decimal(plainText: String(parts[1])), price > 0
            else { throw SimulatorError("symbols: expected SYMBOL=PRICE[,SYMBOL=PRICE…], got \(item)") }
            out.append((symbol, price))
        }
        guard !out.isEmpty else { throw SimulatorError("symbols: at least one SYMBOL=PRICE") }
        return out
    }

    /// The filters a symbol trades under: a tick of about a millionth of its price (0.1 at
    /// 50000, 0.01 at 3000), a step of 0.001, and Binance's usual 100 (BTC) or 20 notional.
    static func rules(symbol: String, price: Decimal) -> SymbolRules {
        var tick = Decimal(1)
        while tick * 100_000 > price, tick > Decimal(string: "0.00001")! { tick /= 10 }
        let minNotional: Decimal = symbol.hasPrefix("BTC") ? 100 : 20
        return SymbolRules(
            symbol: symbol, tickSize: tick, stepSize: Decimal(string: "0.001")!, marketStepSize: Decimal(string: "0.001")!,
            minQuantity: Decimal(string: "0.001")!, maxQuantity: 1000, minNotional: minNotional)
    }
}

/// A bad simulator setting or control request.
public struct SimulatorError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
