import Crypto
import Foundation

/// Binance's request signature: lowercase hex HMAC-SHA256 of the query string followed
/// directly by the form body, keyed by the API secret.
public struct RequestSigner: Sendable {
    private let key: SymmetricKey

    /// A signer for one secret (kept only as the key).
    public init(secret: String) {
        key = SymmetricKey(data: Array(secret.utf8))
    }

    /// The signature of `payload` (query string, then body, no separator).
    public func signature(of payload: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(payload.utf8), using: key)
        return Self.hex(mac)
    }

    /// True when `signature` signs `payload` (constant time).
    public func verifies(_ signature: String, of payload: String) -> Bool {
        guard let bytes = Self.bytes(hex: signature) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: Array(payload.utf8), using: key)
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}

extension QueryString {
    /// The request text Binance accepts for a signed endpoint: these parameters, `recvWindow`
    /// and `timestamp` appended, then `signature` over all of it.
    public func signed(timestamp: Int64, recvWindow: Int, signer: RequestSigner) -> String {
        var all = self
        all.append("recvWindow", String(recvWindow))
        all.append("timestamp", String(timestamp))
        let payload = all.description
        return payload + "&signature=" + signer.signature(of: payload)
    }
}
