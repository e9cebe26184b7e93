import Foundation

/// ISO 8601 UTC timestamps with milliseconds (`2026-11-25T18:38:24.123Z`), the one timestamp
/// format of the contract. Pure and allocation-light; shared by every module.
///
/// Dates are kept to whole milliseconds: ``normalize(_:)`` rounds a date to the millisecond
/// so that `parse(format(normalize(d))) == normalize(d)` holds bit for bit.
public enum Timestamp {
    /// Milliseconds since 1970-01-01T00:00:00Z, rounded to the nearest millisecond.
    public static func milliseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded()
        guard value.isFinite, abs(value) < 9.0e15 else { return 0 }
        return Int64(value)
    }

    /// The date of a millisecond count since 1970.
    public static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// The date rounded to the nearest millisecond, the precision of every stored timestamp.
    public static func normalize(_ date: Date) -> Date {
        self.date(milliseconds: milliseconds(date))
    }

    /// Formats a date as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds).
    public static func format(_ date: Date) -> String {
        var out = [UInt8]()
        out.reserveCapacity(24)
        write(date, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the `format(_:)` text of `date` to `out` (no allocation of its own).
    public static func write(_ date: Date, to out: inout [UInt8]) {
        let ms = milliseconds(date)
        let dayMs: Int64 = 86_400_000
        var days = ms / dayMs
        var msOfDay = ms % dayMs
        if msOfDay < 0 {
            msOfDay += dayMs
            days -= 1
        }
        let (year, month, day) = civil(fromDays: days)
        let hour = Int(msOfDay / 3_600_000)
        let minute = Int(msOfDay / 60_000 % 60)
        let second = Int(msOfDay / 1000 % 60)
        let milli = Int(msOfDay % 1000)
        appendDigits(&out, Int(year), 4)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, month, 2)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, day, 2)
        out.append(UInt8(ascii: "T"))
        appendDigits(&out, hour, 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, minute, 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, second, 2)
        out.append(UInt8(ascii: "."))
        appendDigits(&out, milli, 3)
        out.append(UInt8(ascii: "Z"))
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`; the fraction is cut to milliseconds.
    /// Returns `nil` for anything else, including out-of-range fields.
    public static func parse(_ text: String) -> Date? {
        var utf8 = Array(text.utf8)[...]
        guard
            let year = number(&utf8, 4), take(&utf8, "-"),
            let month = number(&utf8, 2), take(&utf8, "-"),
            let day = number(&utf8, 2),
            take(&utf8, "T") || take(&utf8, "t") || take(&utf8, " "),
            let hour = number(&utf8, 2), take(&utf8, ":"),
            let minute = number(&utf8, 2), take(&utf8, ":"),
            let second = number(&utf8, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year, month),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var milli = 0
        if take(&utf8, ".") || take(&utf8, ",") {
            var digits = 0
            while let byte = utf8.first, byte >= 0x30, byte <= 0x39 {
                if digits < 3 { milli = milli * 10 + Int(byte - 0x30) }
                digits += 1
                utf8.removeFirst()
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { milli *= 10 }
        }
        var offsetMinutes = 0
        if take(&utf8, "Z") || take(&utf8, "z") {
            offsetMinutes = 0
        } else if let sign = utf8.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            utf8.removeFirst()
            guard let oh = number(&utf8, 2) else { return nil }
            _ = take(&utf8, ":")
            guard let om = number(&utf8, 2), oh <= 23, om <= 59 else { return nil }
            offsetMinutes = (oh * 60 + om) * (sign == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        guard utf8.isEmpty else { return nil }
        let days = Self.days(fromCivil: year, month, day)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetMinutes * 60)
        return date(milliseconds: seconds * 1000 + Int64(milli))
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, H. Hinnant's algorithms)

    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func appendDigits(_ out: inout [UInt8], _ value: Int, _ width: Int) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = abs(value)
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        if magnitude / divisor >= 10 { out.append(contentsOf: String(magnitude / (divisor * 10)).utf8) }
        var rest = magnitude % (divisor * 10)
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    private static func number(_ utf8: inout ArraySlice<UInt8>, _ width: Int) -> Int? {
        guard utf8.count >= width else { return nil }
        var value = 0
        for _ in 0..<width {
            let byte = utf8.removeFirst()
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    private static func take(_ utf8: inout ArraySlice<UInt8>, _ char: Unicode.Scalar) -> Bool {
        guard utf8.first == UInt8(ascii: char) else { return false }
        utf8.removeFirst()
        return true
    }
}
