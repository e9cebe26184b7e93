import Synchronization

/// Random (version 4) UUIDs as lower-case text, for plan and event ids. Foundation's
/// `UUID().uuidString.lowercased()` costs about 5 µs here (a system call and two strings),
/// and every plan write carries a new event id; this costs a small fraction of that.
/// The generator (xoshiro256**) is seeded once from the system's random source; ids need to
/// be unique, not secret.
public enum RandomUUID {
    private static let state = Mutex(Xoshiro256StarStar())

    /// A new id like `6f1c2a9e-4b7d-4e8a-9c3f-0d2b5e7a1c4f`.
    public static func string() -> String {
        let (high, low) = state.withLock { ($0.next(), $0.next()) }
        return format(high: high, low: low)
    }

    /// Formats 128 bits as a version 4, RFC 4122 variant UUID (the version and variant bits are set here).
    static func format(high: UInt64, low: UInt64) -> String {
        let high = (high & ~0xF000) | 0x4000  // version 4 in bits 12-15 of time_hi
        let low = (low & ~(0xC << 60)) | (0x8 << 60)  // variant 10xx
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var i = 0
            func put(_ value: UInt64, nibbles: Int) {
                for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                    buffer[i] = hex[Int((value >> UInt64(shift)) & 0xF)]
                    i += 1
                }
            }
            func dash() {
                buffer[i] = UInt8(ascii: "-")
                i += 1
            }
            put(high >> 32, nibbles: 8)
            dash()
            put((high >> 16) & 0xFFFF, nibbles: 4)
            dash()
            put(high & 0xFFFF, nibbles: 4)
            dash()
            put(low >> 48, nibbles: 4)
            dash()
            put(low & 0xFFFF_FFFF_FFFF, nibbles: 12)
            return 36
        }
    }
}

/// xoshiro256** (Blackman and Vigna), seeded from the system generator.
struct Xoshiro256StarStar {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init() {
        var system = SystemRandomNumberGenerator()
        repeat {
            s = (system.next(), system.next(), system.next(), system.next())
        } while s == (0, 0, 0, 0)
    }

    mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
