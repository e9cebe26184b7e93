import Foundation
import Venue

extension ExchangeSymbol {
    /// The symbol's rules from its filters (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE,
    /// MIN_NOTIONAL); nil when a filter ExitBrain needs is missing or unreadable.
    public var rules: SymbolRules? {
        func number(_ text: String?) -> Decimal? {
            guard let text, let value = Decimal(wireText: text) else {
                return nil
            }
            return value.normalizedForStep
        }
        guard let tick = number(filter("PRICE_FILTER")?.tickSize), tick > 0,
            let lot = filter("LOT_SIZE"), let step = number(lot.stepSize), step > 0,
            let minQty = number(lot.minQty), let maxQty = number(lot.maxQty)
        else { return nil }
        let marketStep = number(filter("MARKET_LOT_SIZE")?.stepSize).flatMap { $0 > 0 ? $0 : nil }
        let notional = number(filter("MIN_NOTIONAL")?.notional) ?? 0
        return SymbolRules(
            symbol: symbol, tickSize: tick, stepSize: step, marketStepSize: marketStep, minQuantity: minQty, maxQuantity: maxQty,
            minNotional: notional, maxConditionalOrders: filter("MAX_NUM_ALGO_ORDERS")?.limit)
    }
}

extension Decimal {
    /// `0.00100000` as `0.001`: Binance pads increments to 8 decimals; the rules want the
    /// increment's own places (a trigger's text has the tick's decimals, not 8).
    var normalizedForStep: Decimal {
        var text = description
        guard text.contains(".") else { return self }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return Decimal(wireText: text) ?? self
    }
}
