/// Identifies one position (and so one exit plan): symbol plus side, so hedge-mode LONG and
/// SHORT on one symbol never share a plan. Written `SYMBOL:SIDE`, e.g. `BTCUSDT:LONG`.
public struct PositionKey: Hashable, Sendable, CustomStringConvertible {
    /// The instrument, e.g. `BTCUSDT`.
    public let symbol: String
    /// The position side.
    public let side: PositionSide

    /// Creates a key from its parts.
    public init(symbol: String, side: PositionSide) {
        self.symbol = symbol
        self.side = side
    }

    /// Parses the hash-field form `SYMBOL:SIDE`; `nil` when the side is unknown or the symbol empty.
    public init?(_ field: String) {
        guard let colon = field.lastIndex(of: ":") else { return nil }
        let symbol = field[..<colon]
        guard !symbol.isEmpty, let side = PositionSide(rawValue: String(field[field.index(after: colon)...])) else {
            return nil
        }
        self.init(symbol: String(symbol), side: side)
    }

    /// `SYMBOL:SIDE`, the field name used in the plan and position hashes.
    public var description: String { "\(symbol):\(side.rawValue)" }
}
