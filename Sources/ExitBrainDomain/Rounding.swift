import Foundation

/// The rounding applied to every number the domain stores, so that JSON shows `0.003` and not
/// `0.0030000000000000001`, and a plan survives encode → decode bit for bit.
public enum Rounding {
    private static let powersOfTen: [Double] = (0...22).map { Double("1e\($0)") ?? 1 }

    /// A quantity rounded to 8 decimals (the smallest step of common venues).
    @inlinable
    public static func quantity(_ value: Double) -> Double { decimals(value, 8) }

    /// A fraction (`_pct`) rounded to 8 decimals.
    @inlinable
    public static func fraction(_ value: Double) -> Double { decimals(value, 8) }

    /// A price rounded to 8 significant digits (50040.000000000004 → 50040, 0.000123456789 → 0.00012345679).
    public static func price(_ value: Double) -> Double {
        guard value.isFinite, value != 0 else { return value }
        let exponent = Int(log10(abs(value)).rounded(.down))
        let shift = 7 - exponent
        if shift >= 0 {
            guard shift < powersOfTen.count else { return value }
            let scale = powersOfTen[shift]
            return (value * scale).rounded() / scale
        }
        guard -shift < powersOfTen.count else { return value }
        let scale = powersOfTen[-shift]
        return (value / scale).rounded() * scale
    }

    /// `value` rounded to `places` decimals (0…22); non-finite values pass through.
    public static func decimals(_ value: Double, _ places: Int) -> Double {
        guard value.isFinite, places >= 0, places < powersOfTen.count else { return value }
        let scale = powersOfTen[places]
        let scaled = value * scale
        guard abs(scaled) < 9.0e15 else { return value }
        return scaled.rounded() / scale
    }
}
