import ExitBrainDomain
import Testing

/// FNV-1a 64 against the published test vectors: client order ids, buckets and record digests
/// must not move between versions.
@Suite("FNV-1a")
struct FNV1aTests {
    @Test func knownAnswers() {
        #expect(FNV1a.hash64("") == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a.hash64("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a.hash64("foobar") == 0x8594_4171_f739_67e8)
        #expect(FNV1a.hex64("a") == "af63dc4c8601ec8c")
    }

    @Test func textAndItsBytesHashAlike() {
        for text in ["", "BTCUSDT", "signal-1f28e9e9", "ünïcode"] {
            #expect(FNV1a.hash64(Array(text.utf8)) == FNV1a.hash64(text), "\(text)")
        }
    }
}
