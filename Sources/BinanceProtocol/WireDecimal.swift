import Foundation
import Venue

/// A decimal as Binance sends it: usually a string (`"0.010"`), sometimes a JSON number.
/// Encoded as a string, the way Binance sends money; never through a `Double`.
public struct WireDecimal: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The value.
    public var value: Decimal
    /// The text it came as (or will go as).
    public var text: String

    /// From a value, written with `places` decimals (or plainly when nil).
    public init(_ value: Decimal, places: Int? = nil) {
        self.value = value
        text = places.map { value.text(places: $0) } ?? value.plainDescription
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            let trimmed = string.isEmpty ? "0" : string
            guard let value = Decimal(wireText: trimmed) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a decimal: \(string)")
            }
            self.value = value
            text = string
        } else {
            let value = try container.decode(Decimal.self)
            self.value = value
            text = value.plainDescription
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    public var description: String { text }
}

extension Decimal {
    /// A decimal as Binance writes one (`"0.010"`, `"50000.00000000"`, now and then an
    /// exponent): the fast plain-text reader first, Foundation's POSIX parser for the rest.
    public init?(wireText text: String) {
        guard let value = Decimal(plainText: text) ?? Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else { return nil }
        self = value
    }
}
