/// Deterministic client order ids: `eb-<first 20 alphanumerics of plan_id without dashes>-<leg>-<version>`.
///
/// The same (plan, leg, version) always gives the same id, so an exit order sent twice is one
/// order at the venue. A leg that is modified (its stop moved, its quantity re-set) gets the id
/// of the plan version that modified it. At most 36 characters of `[A-Za-z0-9._:/-]`.
public enum ClientOrderID {
    /// Longest id venues accept.
    public static let maxLength = 36

    /// The id of leg `legIndex` as set at plan version `version`.
    public static func make(planId: String, legIndex: Int, version: Int) -> String {
        make(stem: stem(planId), legIndex: legIndex, version: version)
    }

    /// Up to 20 letters and digits of the plan id, lower-cased (dashes and other symbols dropped).
    static func stem(_ planId: String) -> [UInt8] {
        var stem = [UInt8]()
        stem.reserveCapacity(20)
        for byte in planId.utf8 where stem.count < 20 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"): stem.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): stem.append(byte + 32)
            default: continue
            }
        }
        return stem
    }

    /// `eb-<stem>-<leg>-<version>`, the stem shortened when the numbers are long so the id stays ≤ 36 characters.
    static func make(stem: [UInt8], legIndex: Int, version: Int) -> String {
        let legValue = UInt64(max(0, legIndex))
        let versionValue = UInt64(max(0, version))
        let leg = (legValue, digitCount(legValue))
        let ver = (versionValue, digitCount(versionValue))
        let stemLength = min(stem.count, max(0, maxLength - 5 - leg.1 - ver.1))
        let total = 3 + stemLength + 2 + leg.1 + ver.1
        return String(unsafeUninitializedCapacity: total) { out in
            out[0] = UInt8(ascii: "e")
            out[1] = UInt8(ascii: "b")
            out[2] = UInt8(ascii: "-")
            var i = 3
            for k in 0..<stemLength {
                out[i] = stem[k]
                i += 1
            }
            out[i] = UInt8(ascii: "-")
            i += 1
            writeDigits(leg.0, leg.1, into: out, at: &i)
            out[i] = UInt8(ascii: "-")
            i += 1
            writeDigits(ver.0, ver.1, into: out, at: &i)
            return i
        }
    }

    private static func digitCount(_ value: UInt64) -> Int {
        var count = 1
        var rest = value / 10
        while rest > 0 {
            count += 1
            rest /= 10
        }
        return count
    }

    private static func writeDigits(_ value: UInt64, _ count: Int, into out: UnsafeMutableBufferPointer<UInt8>, at i: inout Int) {
        var rest = value
        var position = i + count - 1
        while position >= i {
            out[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            position -= 1
        }
        i += count
    }

    /// True when `id` is at most 36 characters of `[A-Za-z0-9._:/-]`.
    public static func isValid(_ id: String) -> Bool {
        guard !id.isEmpty, id.utf8.count <= maxLength else { return false }
        return id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }
}
