import Foundation

/// Prices and quantities as they cross the wire: `Decimal`, rounded to a venue's increments and
/// written with a fixed number of decimals. A `Double` from the domain's arithmetic enters here
/// once, through `Decimal(_:)`, and is rounded to the venue's tick or step before it is written:
/// no `Double` text ever reaches a venue.
extension Decimal {
    /// The value rounded to a whole multiple of `increment` (a tick or a step), in `mode`. A
    /// power of ten (0.01, 0.001, 1) is rounded at its decimal place, without a division.
    public func rounded(toMultipleOf increment: Decimal, _ mode: NSDecimalNumber.RoundingMode) -> Decimal {
        guard increment > 0 else { return self }
        if increment.significand == 1 {
            if let fast = DecimalParts(self)?.rounded(toExponent: increment.exponent, mode) { return fast }
            var value = self
            var result = Decimal()
            NSDecimalRound(&result, &value, -increment.exponent, mode)
            return result
        }
        var units = self / increment
        var whole = Decimal()
        NSDecimalRound(&whole, &units, 0, mode)
        return whole * increment
    }

    /// How many decimals an increment has: 0.001 → 3, 0.5 → 1, 10 → 0.
    public var decimalPlaces: Int { Swift.max(0, -exponent) }

    /// Fixed-point text with exactly `places` decimals (`48750.0`, `0.010`), rounded half-up first.
    public func text(places: Int) -> String {
        var rounded = Decimal()
        if let fast = DecimalParts(self)?.rounded(toExponent: -places, .plain) {
            rounded = fast
        } else {
            var value = self
            NSDecimalRound(&rounded, &value, places, .plain)
        }
        var text = rounded.plainDescription
        guard places > 0 else { return text }
        if let dot = text.firstIndex(of: ".") {
            let have = text.distance(from: dot, to: text.endIndex) - 1
            if have < places { text += String(repeating: "0", count: places - have) }
        } else {
            text += "." + String(repeating: "0", count: places)
        }
        return text
    }

    /// A domain `Double` as a decimal with at most `places` decimals (the domain keeps prices
    /// and quantities to 8): the nearest such decimal, built from a scaled integer, so that
    /// 0.003 is 0.003 and not the binary value's 0.00299999999999999980.
    public init(rounding value: Double, places: Int = 8) {
        let scale = pow(10, Double(places))
        let scaled = (value * scale).rounded()
        guard value.isFinite, abs(scaled) < 9e15 else {
            self.init(value)
            return
        }
        self.init(sign: scaled < 0 ? .minus : .plus, exponent: -places, significand: Decimal(UInt64(abs(scaled))))
    }

    /// The value as a `Double`, for the domain's arithmetic: the `Double` nearest the decimal
    /// text (0.007 stays 0.007, where a binary division would give 0.006999999999999999).
    public var doubleValue: Double {
        if let parts = DecimalParts(self), let value = parts.double { return value }
        return Double(description) ?? NSDecimalNumber(decimal: self).doubleValue
    }

    /// `description` ("48750", "0.003", "-1.5"), written from the stored digits when they fit
    /// in 64 bits (``DecimalParts``) instead of dividing by ten for each digit.
    public var plainDescription: String { DecimalParts(self)?.text ?? description }
}
