import ExitBrainDomain
import Foundation

/// What a venue allows for one symbol (Binance's `exchangeInfo` filters): price tick,
/// quantity steps (limit and market), quantity bounds and minimum notional, and the rounding
/// every order request goes through.
public struct SymbolRules: Sendable, Equatable, Codable {
    /// The symbol, e.g. `BTCUSDT`.
    public var symbol: String
    /// PRICE_FILTER `tickSize`.
    public var tickSize: Decimal
    /// LOT_SIZE `stepSize`.
    public var stepSize: Decimal
    /// MARKET_LOT_SIZE `stepSize` (market orders; often coarser or finer than LOT_SIZE).
    public var marketStepSize: Decimal
    /// LOT_SIZE `minQty`.
    public var minQuantity: Decimal
    /// LOT_SIZE `maxQty` (MARKET_LOT_SIZE's for market orders).
    public var maxQuantity: Decimal
    /// MIN_NOTIONAL `notional`: price × quantity of an order that is not reduce-only.
    public var minNotional: Decimal
    /// MAX_NUM_ALGO_ORDERS `limit`: how many conditional orders may rest on the symbol (both
    /// sides together); nil when the venue sets no cap.
    public var maxConditionalOrders: Int?

    /// Rules for a symbol.
    public init(
        symbol: String, tickSize: Decimal, stepSize: Decimal, marketStepSize: Decimal? = nil, minQuantity: Decimal,
        maxQuantity: Decimal, minNotional: Decimal, maxConditionalOrders: Int? = nil
    ) {
        self.symbol = symbol
        self.tickSize = tickSize
        self.stepSize = stepSize
        self.marketStepSize = marketStepSize ?? stepSize
        self.minQuantity = minQuantity
        self.maxQuantity = maxQuantity
        self.minNotional = minNotional
        self.maxConditionalOrders = maxConditionalOrders
    }

    /// The step that applies to an order type.
    public func step(for type: OrderType) -> Decimal { type == .market ? marketStepSize : stepSize }

    /// A quantity truncated down to the step (never rounded up: an exit must not exceed the
    /// position). A value within a millionth of a step of a multiple is that multiple: binary
    /// noise from the domain's arithmetic (0.3 − 0.1 = 0.19999999999999998) must not cost a step.
    public func quantity(_ value: Decimal, for type: OrderType = .stopMarket) -> Decimal {
        let step = step(for: type)
        let nearest = value.rounded(toMultipleOf: step, .plain)
        // A millionth of the step by its exponent: no decimal division on every order's quantity.
        let noise = Decimal(sign: .plus, exponent: step.exponent - 6, significand: step.significand)
        if abs(nearest - value) <= noise { return nearest }
        return value.rounded(toMultipleOf: step, .down)
    }

    /// A stop's trigger on the tick, rounded toward the market: up for a long's stop (below the
    /// market), down for a short's, so rounding never moves a stop away from protection.
    public func stopTrigger(_ price: Decimal, protecting side: PositionSide) -> Decimal {
        price.rounded(toMultipleOf: tickSize, side == .long ? .up : .down)
    }

    /// A take-profit's trigger on the tick, rounded away from the market: up for a long's (above
    /// the market), down for a short's, so rounding never takes profit early.
    public func takeProfitTrigger(_ price: Decimal, for side: PositionSide) -> Decimal {
        price.rounded(toMultipleOf: tickSize, side == .long ? .up : .down)
    }

    /// Text of a price on the tick (`48750.0` for a tick of 0.1).
    public func priceText(_ price: Decimal) -> String { price.text(places: tickSize.decimalPlaces) }

    /// Text of a quantity on the step (`0.010` for a step of 0.001).
    public func quantityText(_ quantity: Decimal, for type: OrderType = .stopMarket) -> String {
        quantity.text(places: step(for: type).decimalPlaces)
    }

    /// Splits `total` (already on the step) into legs of the given fractions, each truncated to
    /// the step, the last taking the remainder: the legs always sum exactly to `total`. A leg
    /// the step leaves empty is 0 (the caller does not place it).
    public func split(_ total: Decimal, fractions: [Double], for type: OrderType = .stopMarket) -> [Decimal] {
        guard !fractions.isEmpty else { return [] }
        var legs: [Decimal] = []
        var left = total
        for fraction in fractions.dropLast() {
            let leg = Swift.min(left, quantity(total * Decimal(fraction), for: type))
            legs.append(leg)
            left -= leg
        }
        legs.append(left)
        return legs
    }

    /// Checks a request against the filters; nil when it passes. Reduce-only orders are exempt
    /// from the minimum notional, as at Binance.
    public func violation(quantity: Decimal, price: Decimal?, type: OrderType, reduceOnly: Bool) -> VenueError? {
        let step = step(for: type)
        if quantity.rounded(toMultipleOf: step, .down) != quantity {
            return .refused(code: -4023, message: "Quantity \(quantity) is not a multiple of the step size \(step).")
        }
        if let price, price.rounded(toMultipleOf: tickSize, .down) != price {
            return .refused(code: -4014, message: "Price \(price) is not a multiple of the tick size \(tickSize).")
        }
        if quantity < minQuantity || quantity > maxQuantity {
            return .refused(code: -4003, message: "Quantity \(quantity) is outside \(minQuantity)…\(maxQuantity).")
        }
        if !reduceOnly, let price, price * quantity < minNotional {
            return .refused(code: -4164, message: "Order's notional must be no smaller than \(minNotional) (unless you choose reduce only).")
        }
        return nil
    }
}
