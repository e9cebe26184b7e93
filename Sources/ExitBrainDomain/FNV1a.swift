/// FNV-1a, 64 bits: a fast, stable hash of text or bytes (client order ids from signal ids, a
/// symbol's bucket, a digest of a stored record). Stable across processes and machines, unlike
/// `Hasher`.
public enum FNV1a {
    /// The hash of the bytes.
    @inlinable
    public static func hash64<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// The hash of the text's UTF-8 bytes.
    public static func hash64(_ text: String) -> UInt64 { hash64(text.utf8) }

    /// The hash as 16 lower-case hex characters.
    public static func hex64(_ text: String) -> String {
        let hex = String(hash64(text), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
