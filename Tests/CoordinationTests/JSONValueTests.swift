import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Testing

/// `JSONValue.render` writes numbers that every JSON reader accepts and reads back as the same double.
@Suite struct JSONValueTests {
    @Test func numbersThatUsedToEndInADot() throws {
        // "%.3f" with its trailing zeros cut gave "2." for 2.0004: not JSON.
        for value in [2.0004, 0.0001, 12.3000001, -7.00049] {
            try expectReadsBack(value)
        }
        #expect(JSONValue.number(2.0004).render() == "2.0004")
        #expect(JSONValue.number(2).render() == "2.0")
        #expect(JSONValue.number(.nan).render() == "null")
        #expect(JSONValue.number(.infinity).render() == "null")
    }

    @Test func everyFiniteDoubleRoundTrips() throws {
        var rng = SplitMix64(seed: 20_261_201)
        var checked = 0
        while checked < 20_000 {
            // Arbitrary bit patterns cover subnormals, huge and tiny exponents and negative zero;
            // scaled decimals cover the figures health answers carry.
            let raw = Double(bitPattern: rng.next())
            let decimal = (rng.nextDouble() - 0.5) * pow(10, Double(Int(rng.next() % 12)) - 4)
            for value in [raw, decimal] where value.isFinite {
                try expectReadsBack(value)
                checked += 1
            }
        }
    }

    /// The text must be JSON (Foundation's reader accepts it) and read back exactly (JSONDecoder:
    /// Foundation's JSONSerialization on Linux rounds the 17th digit).
    private func expectReadsBack(_ value: Double, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let text = JSONValue.array([.number(value)]).render()
        let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [NSNumber]
        #expect(parsed?.count == 1, "not JSON: \(text)", sourceLocation: sourceLocation)
        let back = try JSONDecoder().decode([Double].self, from: Data(text.utf8))
        #expect(back == [value], "\(text) read back as \(back)", sourceLocation: sourceLocation)
    }
}
