import Foundation
import Testing

@testable import ExitBrainDomain

@Suite struct RandomUUIDTests {
    @Test func idsAreVersion4UUIDsInLowerCaseAndDoNotRepeat() throws {
        var seen = Set<String>()
        let pattern = try Regex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        for _ in 0..<100_000 {
            let id = RandomUUID.string()
            #expect(id.wholeMatch(of: pattern) != nil, "\(id)")
            #expect(UUID(uuidString: id) != nil, "Foundation reads \(id)")
            seen.insert(id)
        }
        #expect(seen.count == 100_000)
    }

    @Test func formatPlacesEveryBitWhereFoundationDoes() {
        let id = RandomUUID.format(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
        #expect(id == "01234567-89ab-4def-bedc-ba9876543210")
        #expect(RandomUUID.format(high: 0, low: 0) == "00000000-0000-4000-8000-000000000000")
        #expect(RandomUUID.format(high: .max, low: .max) == "ffffffff-ffff-4fff-bfff-ffffffffffff")
    }
}
