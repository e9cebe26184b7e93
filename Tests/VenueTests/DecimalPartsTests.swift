import Foundation
import Testing
import Venue

/// The storage reading of ``DecimalParts`` against Foundation's own answers: the same text as
/// `description` and the same `Double` as parsing that text, for every value it reads.
@Suite struct DecimalPartsTests {
    @Test func theLayoutIsTheOneThisFoundationUses() throws {
        let parts = try #require(DecimalParts(Decimal(string: "-48750.0123")!), "the layout check failed: every caller is on the slow path")
        #expect(parts == DecimalParts(Decimal(sign: .minus, exponent: -4, significand: 487_500_123)))
        #expect(parts.negative && parts.exponent == -4 && parts.mantissa == 487_500_123)
    }

    @Test func textAndDoubleAgreeWithFoundationForRandomValues() throws {
        var rng = SystemRandomNumberGenerator()
        var read = 0
        for n in 0..<20_000 {
            let mantissa = n % 3 == 0 ? UInt64.random(in: 0...UInt64.max, using: &rng) : UInt64.random(in: 0..<100_000_000_000, using: &rng)
            let exponent = Int.random(in: -20...8, using: &rng)
            let value = Decimal(sign: Bool.random(using: &rng) ? .minus : .plus, exponent: exponent, significand: Decimal(mantissa))
            guard let parts = DecimalParts(value) else { continue }
            read += 1
            #expect(parts.text == value.description, "\(mantissa)e\(exponent)")
            #expect(value.plainDescription == value.description)
            if let double = parts.double { #expect(double == Double(value.description)!, "\(value)") }
            #expect(value.doubleValue == Double(value.description)!, "\(value)")
        }
        #expect(read > 15_000, "only \(read) of 20 000 read from storage")
    }

    @Test func arithmeticResultsAndEdgesReadTheSame() throws {
        let step = Decimal(string: "0.0001")!
        let values: [Decimal] = [
            Decimal(30) * step, step * 12_345, Decimal(string: "0.0030")!, Decimal(string: "48750.00")!, 0, Decimal(string: "-0")!,
            Decimal(string: "1e5")!, Decimal(rounding: 0.003), Decimal(rounding: 48_750.1), Decimal(1) / Decimal(3),
            Decimal(string: "123456789012345678901234567890")!,
        ]
        for value in values {
            #expect(value.plainDescription == value.description, "\(value)")
            #expect(value.doubleValue == Double(value.description)!, "\(value)")
        }
        #expect(DecimalParts(Decimal.nan) == nil, "NaN is left to Foundation")
        #expect(DecimalParts(Decimal(string: "123456789012345678901234567890")!) == nil, "beyond 64 bits: Foundation's path")
    }

    @Test func roundingOnTheMantissaIsNSDecimalRound() throws {
        var rng = SystemRandomNumberGenerator()
        let modes: [NSDecimalNumber.RoundingMode] = [.plain, .down, .up, .bankers]
        var compared = 0
        for n in 0..<20_000 {
            // Ties (…5 at the dropped place) a third of the time.
            var mantissa = UInt64.random(in: 0..<10_000_000_000_000, using: &rng)
            if n % 3 == 0 { mantissa = mantissa / 100 * 100 + 50 }
            var value = Decimal(sign: .plus, exponent: Int.random(in: -12...2, using: &rng), significand: Decimal(mantissa))
            let target = Int.random(in: -9...2, using: &rng)
            let mode = modes[n % modes.count]
            let parts = try #require(DecimalParts(value))
            guard let fast = parts.rounded(toExponent: target, mode) else { continue }
            var slow = Decimal()
            NSDecimalRound(&slow, &value, -target, mode)
            #expect(fast == slow, "\(value) to 1e\(target), mode \(mode.rawValue): \(fast) vs \(slow)")
            compared += 1
        }
        #expect(compared == 20_000)
        #expect(DecimalParts(Decimal(string: "-1.25")!)?.rounded(toExponent: -1, .plain) == nil, "negative values: Foundation's")
        let step = Decimal(string: "0.0001")!
        #expect(Decimal(string: "0.00309")!.rounded(toMultipleOf: step, .down) == Decimal(string: "0.003")!)
        #expect(Decimal(string: "48750.126")!.text(places: 2) == "48750.13")
    }
}
