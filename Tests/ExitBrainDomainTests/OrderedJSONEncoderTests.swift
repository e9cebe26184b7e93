import Foundation
import Testing

@testable import ExitBrainDomain

/// The ordered encoder keeps keys in the order they were encoded, including what a type
/// encodes through a super-encoder (the Codable way for a subclass to nest its parent).
@Suite struct OrderedJSONEncoderTests {
    struct Parent: Encodable {
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyCodingKey.self)
            try c.encode(2, forKey: AnyCodingKey(stringValue: "b"))
        }
    }

    struct Child: Encodable {
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyCodingKey.self)
            try c.encode(1, forKey: AnyCodingKey(stringValue: "z"))
            try Parent().encode(to: c.superEncoder())
            try Parent().encode(to: c.superEncoder(forKey: AnyCodingKey(stringValue: "parent")))
            try c.encode("last", forKey: AnyCodingKey(stringValue: "a"))
        }
    }

    struct Items: Encodable {
        func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(1.5)
            try Parent().encode(to: c.superEncoder())
            try c.encodeNil()
        }
    }

    @Test func superEncodersLandWhereTheyWereAskedFor() throws {
        #expect(String(decoding: try OrderedJSONEncoder().encode(Child()), as: UTF8.self) == #"{"z":1,"super":{"b":2},"parent":{"b":2},"a":"last"}"#)
        #expect(String(decoding: try OrderedJSONEncoder().encode(Items()), as: UTF8.self) == #"[1.5,{"b":2},null]"#)
    }
}
