import Foundation

/// A `Decimal` as sign, exponent and a 64-bit integer mantissa, read from its storage: the
/// text and the `Double` of a price or quantity without Foundation's digit-by-digit division
/// (`Decimal.description` divides the mantissa by ten once per digit; an order record has four
/// such numbers and the services write thousands a second).
///
/// The storage layout is Foundation's, not a promised interface: it is checked once, against
/// the public `exponent`, `sign` and `description` of sample values, and when it does not match
/// (another Foundation) every caller falls back to the public API.
public struct DecimalParts: Equatable, Sendable {
    public var negative: Bool
    public var exponent: Int
    public var mantissa: UInt64

    /// The parts of `value`; nil for NaN, a mantissa beyond 64 bits, or an unverified layout.
    public init?(_ value: Decimal) {
        guard Self.layoutMatches, let parts = Self.read(value) else { return nil }
        self = parts
    }

    private init(negative: Bool, exponent: Int, mantissa: UInt64) {
        self.negative = negative
        self.exponent = exponent
        self.mantissa = mantissa
    }

    /// Byte 0: the exponent; byte 1: the length in 16-bit words (high nibble), negative (bit 3);
    /// from byte 4: the mantissa's words, least significant first.
    private static func read(_ value: Decimal) -> DecimalParts? {
        withUnsafeBytes(of: value) { raw -> DecimalParts? in
            guard raw.count >= 20 else { return nil }
            let length = Int(raw[1] >> 4)
            let negative = raw[1] & 0x08 != 0
            if length == 0 { return negative ? nil : DecimalParts(negative: false, exponent: 0, mantissa: 0) }  // NaN / zero
            guard length <= 4 else { return nil }
            var mantissa: UInt64 = 0
            for word in stride(from: length - 1, through: 0, by: -1) {
                mantissa = mantissa << 16 | UInt64(raw[4 + 2 * word]) | UInt64(raw[5 + 2 * word]) << 8
            }
            return DecimalParts(negative: negative, exponent: Int(Int8(bitPattern: raw[0])), mantissa: mantissa)
        }
    }

    /// True when the storage reads as the public API describes the same values.
    static let layoutMatches: Bool = {
        let samples = ["0", "1", "-0.00000001", "48750.0123", "-48750", "0.003", "1e5", "12345678901234567890", "65536", "4294967296.5"]
        return samples.allSatisfy { text in
            guard let value = Decimal(string: text), let parts = read(value) else { return false }
            guard parts.mantissa != 0 else { return value.isZero && parts.exponent == 0 }
            return parts.exponent == value.exponent && parts.negative == (value.sign == .minus)
                && String(parts.mantissa) == value.significand.description
        }
    }()

    /// The text `Decimal.description` gives: plain digits, no exponent, no trailing zeros after
    /// the point ("48750", "0.003", "-1.5").
    public var text: String {
        guard mantissa != 0 else { return "0" }
        var m = mantissa
        var e = exponent
        while e < 0, m % 10 == 0 {
            m /= 10
            e += 1
        }
        var digits = String(m)
        if e > 0 {
            digits += String(repeating: "0", count: e)
        } else if e < 0 {
            let places = -e
            if digits.utf8.count > places {
                digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -places))
            } else {
                digits = "0." + String(repeating: "0", count: places - digits.utf8.count) + digits
            }
        }
        return negative ? "-" + digits : digits
    }

    private static let powers: [Double] = (0...22).map { Double("1e\($0)")! }

    /// The `Double` nearest the value, when one IEEE operation gives it exactly rounded: a
    /// mantissa below 2^53 and a power of ten up to 10^22 are both exact, so `m / 10^k` (or
    /// `m × 10^k`) is the correctly rounded result, the same as parsing the text.
    public var double: Double? {
        guard mantissa < 1 << 53, abs(exponent) <= 22 else { return nil }
        let magnitude = exponent < 0 ? Double(mantissa) / Self.powers[-exponent] : Double(mantissa) * Self.powers[exponent]
        return negative ? -magnitude : magnitude
    }

    /// The value rounded to a whole multiple of `10^exponent` in `mode`, as `NSDecimalRound`
    /// rounds it, worked out on the integer mantissa; nil where that is not plain (a negative
    /// value, more than 19 digits to drop, a mode other than plain, down, up and bankers).
    public func rounded(toExponent target: Int, _ mode: NSDecimalNumber.RoundingMode) -> Decimal? {
        guard !negative else { return nil }
        if exponent >= target || mantissa == 0 {
            return Decimal(sign: .plus, exponent: exponent, significand: Decimal(mantissa))
        }
        let dropped = target - exponent
        guard dropped <= 19 else { return nil }
        var divisor: UInt64 = 1
        for _ in 0..<dropped { divisor *= 10 }
        var quotient = mantissa / divisor
        let remainder = mantissa % divisor
        switch mode {
        case .down: break
        case .up: if remainder > 0 { quotient += 1 }
        case .plain: if remainder >= divisor / 2 { quotient += 1 }  // the divisor is a power of ten: even
        case .bankers: if remainder > divisor / 2 || (remainder == divisor / 2 && quotient % 2 == 1) { quotient += 1 }
        @unknown default: return nil
        }
        return Decimal(sign: .plus, exponent: target, significand: Decimal(quotient))
    }
}
