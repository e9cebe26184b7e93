import ExitBrainDomain
import Foundation
import Testing
import Venue

/// Rounding to the venue's tick and step, the way BINANCE's filters and the exit rules want it.
@Suite struct SymbolRulesTests {
    static let btc = SymbolRules(
        symbol: "BTCUSDT", tickSize: Decimal(string: "0.1")!, stepSize: Decimal(string: "0.001")!, minQuantity: Decimal(string: "0.001")!,
        maxQuantity: 1000, minNotional: 100)

    @Test func quantitiesAreTruncatedToTheStep() {
        #expect(Self.btc.quantity(Decimal(0.0129)) == Decimal(string: "0.012")!)
        #expect(Self.btc.quantity(Decimal(0.003)) == Decimal(string: "0.003")!, "a value on the step stays")
        #expect(Self.btc.quantity(Decimal(0.3 - 0.1)) == Decimal(string: "0.2")!, "binary noise below a step does not cost the step")
        #expect(Self.btc.quantity(Decimal(string: "0.2009999")!) == Decimal(string: "0.2")!, "real excess is truncated")
        let coarseMarket = SymbolRules(
            symbol: "X", tickSize: 1, stepSize: Decimal(string: "0.001")!, marketStepSize: Decimal(string: "0.01")!, minQuantity: 0,
            maxQuantity: 10, minNotional: 0)
        #expect(coarseMarket.quantity(Decimal(0.0129), for: .market) == Decimal(string: "0.01")!)
        #expect(coarseMarket.quantity(Decimal(0.0129), for: .stopMarket) == Decimal(string: "0.012")!)
    }

    @Test func aMillionthOfTheStepIsTheEdgeOfNoise() {
        #expect(Self.btc.quantity(Decimal(string: "0.199999999")!) == Decimal(string: "0.2")!, "a millionth of a 0.001 step below")
        #expect(Self.btc.quantity(Decimal(string: "0.1999999989")!) == Decimal(string: "0.199")!, "more than a millionth below")
        let halves = SymbolRules(symbol: "H", tickSize: 1, stepSize: Decimal(string: "0.5")!, minQuantity: 0, maxQuantity: 10, minNotional: 0)
        #expect(halves.quantity(Decimal(string: "1.4999995")!) == Decimal(string: "1.5")!, "a millionth of a 0.5 step is 0.0000005")
        #expect(halves.quantity(Decimal(string: "1.4999994")!) == Decimal(string: "1.0")!)
        #expect(halves.quantity(Decimal(string: "1.5000005")!) == Decimal(string: "1.5")!, "noise above the multiple too")
    }

    @Test func stopsRoundTowardTheMarketAndTakeProfitsAwayFromIt() {
        // A long's stop is below the market: rounding up keeps it tighter; a short's the mirror.
        #expect(Self.btc.stopTrigger(Decimal(48_750.04), protecting: .long) == Decimal(string: "48750.1")!)
        #expect(Self.btc.stopTrigger(Decimal(51_249.96), protecting: .short) == Decimal(string: "51249.9")!)
        #expect(Self.btc.takeProfitTrigger(Decimal(50_750.01), for: .long) == Decimal(string: "50750.1")!)
        #expect(Self.btc.takeProfitTrigger(Decimal(49_249.99), for: .short) == Decimal(string: "49249.9")!)
        #expect(Self.btc.stopTrigger(Decimal(string: "48750.0")!, protecting: .long) == Decimal(string: "48750.0")!, "on the tick stays")
    }

    @Test func textHasTheIncrementsDecimalsAndNoBinaryNoise() {
        #expect(Self.btc.priceText(Decimal(string: "48750")!) == "48750.0")
        #expect(Self.btc.quantityText(Decimal(string: "0.01")!) == "0.010")
        // 0.1 + 0.2 is 0.30000000000000004 as a Double: on a 0.01 tick it is 0.30.
        let cents = SymbolRules(symbol: "Y", tickSize: Decimal(string: "0.01")!, stepSize: 1, minQuantity: 1, maxQuantity: 10, minNotional: 0)
        #expect(cents.priceText(cents.takeProfitTrigger(Decimal(0.1 + 0.2), for: .short)) == "0.30")
        #expect(Decimal(string: "12")!.text(places: 0) == "12")
    }

    @Test func legsSumExactlyToThePositionOnTheStep() {
        #expect(Self.btc.split(Decimal(string: "0.010")!, fractions: [0.3, 0.3, 0.4]).map(\.description) == ["0.003", "0.003", "0.004"])
        #expect(Self.btc.split(Decimal(string: "0.011")!, fractions: [0.3, 0.3, 0.4]).map(\.description) == ["0.003", "0.003", "0.005"])
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            let stepExponent = -Int(rng.next() % 4)
            let step = Decimal(sign: .plus, exponent: stepExponent, significand: 1)
            let rules = SymbolRules(symbol: "Z", tickSize: 1, stepSize: step, minQuantity: step, maxQuantity: 1_000_000, minNotional: 0)
            let total = Decimal(Int(rng.next() % 100_000) + 1) * step
            let a = 0.05 + rng.nextDouble() * 0.4
            let b = 0.05 + rng.nextDouble() * (0.9 - a)
            let legs = rules.split(total, fractions: [a, b, 1 - a - b])
            #expect(legs.reduce(0, +) == total, "\(legs) of \(total)")
            #expect(legs.allSatisfy { $0 >= 0 && $0.rounded(toMultipleOf: step, .down) == $0 }, "\(legs) on step \(step)")
        }
    }

    @Test func filtersRefuseWithTheVenuesCodes() {
        #expect(Self.btc.violation(quantity: Decimal(string: "0.0015")!, price: 50_000, type: .stopMarket, reduceOnly: true)?.code == -4023)
        #expect(
            Self.btc.violation(quantity: Decimal(string: "0.001")!, price: Decimal(string: "50000.05")!, type: .stopMarket, reduceOnly: true)?.code
                == -4014)
        #expect(Self.btc.violation(quantity: Decimal(string: "0.001")!, price: 50_000, type: .market, reduceOnly: false)?.code == -4164)
        #expect(
            Self.btc.violation(quantity: Decimal(string: "0.001")!, price: 50_000, type: .market, reduceOnly: true) == nil, "reduce-only is exempt")
        #expect(Self.btc.violation(quantity: Decimal(string: "0.003")!, price: 50_000, type: .market, reduceOnly: false) == nil)
    }
}
