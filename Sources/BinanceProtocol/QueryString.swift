import Foundation

/// Parameters in the order they are sent, as `application/x-www-form-urlencoded` text: the
/// form Binance signs (the query string followed directly by the body).
public struct QueryString: Sendable, Equatable, CustomStringConvertible {
    /// Names and values, in order.
    public private(set) var pairs: [(String, String)]

    /// Empty.
    public init() { pairs = [] }

    /// From pairs, in order.
    public init(_ pairs: [(String, String)]) { self.pairs = pairs }

    /// Parses `a=1&b=x%20y` (a `+` is a space, as forms send it); malformed escapes are kept as sent.
    public init(parsing text: String) {
        pairs = []
        guard !text.isEmpty else { return }
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.unescape(pieces[0])
            let value = pieces.count > 1 ? Self.unescape(pieces[1]) : ""
            pairs.append((name, value))
        }
    }

    /// Appends a parameter.
    public mutating func append(_ name: String, _ value: String) { pairs.append((name, value)) }

    /// The first value of `name`.
    public subscript(name: String) -> String? { pairs.first { $0.0 == name }?.1 }

    /// True when `name` is present (whatever its value).
    public func contains(_ name: String) -> Bool { pairs.contains { $0.0 == name } }

    /// The encoded text.
    public var description: String {
        var out = ""
        for (index, (name, value)) in pairs.enumerated() {
            if index > 0 { out += "&" }
            out += Self.escape(name)
            out += "="
            out += Self.escape(value)
        }
        return out
    }

    static let unreserved: Set<UInt8> = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8))

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    public static func escape(_ text: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count)
        let digits = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func unescape(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// `text` with its `signature=…` parameter taken out, and that signature: what a server
    /// checks a signed request against.
    public static func splitSignature(_ text: String) -> (payload: String, signature: String?) {
        guard !text.isEmpty else { return ("", nil) }
        var kept = [Substring]()
        var signature: String?
        for part in text.split(separator: "&", omittingEmptySubsequences: false) {
            if part.hasPrefix("signature=") {
                signature = String(part.dropFirst("signature=".count))
            } else {
                kept.append(part)
            }
        }
        return (kept.joined(separator: "&"), signature)
    }
}

extension QueryString {
    public static func == (lhs: QueryString, rhs: QueryString) -> Bool {
        lhs.pairs.count == rhs.pairs.count && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}
