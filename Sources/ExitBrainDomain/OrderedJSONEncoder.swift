import Foundation

// Foundation's JSONEncoder on Linux (Swift 6.3) does not keep the order in which `encode(to:)`
// encodes keys (checked: the order changes from run to run), and the contract wants plans that
// read well in `redis-cli`: stable key order, byte-identical output for equal values.
// This encoder keeps insertion order, writes `Date` as an ISO 8601 millisecond timestamp and
// doubles in their shortest round-trip form.

/// A JSON value whose objects keep their keys in insertion order.
enum JSONNode {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array(ArrayBox)
    case object(ObjectBox)
    /// What a super-encoder encodes, read when the value is written.
    case encoder(OrderedEncoding)

    final class ArrayBox {
        var items: [JSONNode] = []
    }

    final class ObjectBox {
        var keys: [String] = []
        var values: [JSONNode] = []

        func set(_ key: String, _ value: JSONNode) {
            if let i = keys.firstIndex(of: key) {
                values[i] = value
            } else {
                keys.append(key)
                values.append(value)
            }
        }
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let text): JSONNode.writeString(text, to: &out)
        case .array(let box):
            out.append(UInt8(ascii: "["))
            for (i, item) in box.items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let box):
            out.append(UInt8(ascii: "{"))
            for i in box.keys.indices {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONNode.writeString(box.keys[i], to: &out)
                out.append(UInt8(ascii: ":"))
                box.values[i].write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .encoder(let encoding): (encoding.root ?? .object(ObjectBox())).write(to: &out)
        }
    }

    static func writeString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: text.utf8)  // nothing to escape: one copy
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0x0F))
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    static func number(_ value: Double, _ path: [any CodingKey]) throws -> JSONNode {
        guard value.isFinite else {
            throw DomainError(.invalidValue, "\(pathText(path)) = \(value): JSON numbers must be finite")
        }
        return .number(value == 0 ? "0.0" : value.description)
    }
}

/// Encodes any `Encodable` into ordered JSON bytes.
struct OrderedJSONEncoder {
    func encode(_ value: some Encodable) throws -> [UInt8] {
        let node = try OrderedEncoding.node(for: value, path: [])
        var out = [UInt8]()
        out.reserveCapacity(1024)
        node.write(to: &out)
        return out
    }
}

final class OrderedEncoding: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var root: JSONNode?

    init(path: [any CodingKey]) {
        self.codingPath = path
    }

    static func node<T: Encodable>(for value: T, path: [any CodingKey]) throws -> JSONNode {
        // Metatype comparisons first: a failed dynamic cast is slow, and most values are not dates.
        if T.self == Date.self, let date = value as? Date { return .string(Timestamp.format(date)) }
        if T.self == Double.self, let double = value as? Double { return try JSONNode.number(double, path) }
        if T.self == String.self, let string = value as? String { return .string(string) }
        let encoder = OrderedEncoding(path: path)
        try value.encode(to: encoder)
        return encoder.root ?? .object(JSONNode.ObjectBox())
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box: JSONNode.ObjectBox
        if case .object(let existing)? = root {
            box = existing
        } else {
            box = JSONNode.ObjectBox()
            root = .object(box)
        }
        return KeyedEncodingContainer(KeyedContainer<Key>(box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let box: JSONNode.ArrayBox
        if case .array(let existing)? = root {
            box = existing
        } else {
            box = JSONNode.ArrayBox()
            root = .array(box)
        }
        return UnkeyedContainer(box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(encoder: self)
    }

    struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let box: JSONNode.ObjectBox
        let codingPath: [any CodingKey]

        mutating func encodeNil(forKey key: Key) throws { box.set(key.stringValue, .null) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { box.set(key.stringValue, .bool(value)) }
        mutating func encode(_ value: String, forKey key: Key) throws { box.set(key.stringValue, .string(value)) }
        mutating func encode(_ value: Double, forKey key: Key) throws {
            box.set(key.stringValue, try JSONNode.number(value, codingPath + [key]))
        }
        mutating func encode(_ value: Float, forKey key: Key) throws {
            box.set(key.stringValue, try JSONNode.number(Double(value), codingPath + [key]))
        }
        mutating func encode(_ value: Int, forKey key: Key) throws { box.set(key.stringValue, .number(value.description)) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { box.set(key.stringValue, .number(value.description)) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { box.set(key.stringValue, .number(value.description)) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { box.set(key.stringValue, .number(value.description)) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { box.set(key.stringValue, .number(value.description)) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { box.set(key.stringValue, .number(value.description)) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { box.set(key.stringValue, .number(value.description)) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { box.set(key.stringValue, .number(value.description)) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { box.set(key.stringValue, .number(value.description)) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { box.set(key.stringValue, .number(value.description)) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            box.set(key.stringValue, try OrderedEncoding.node(for: value, path: codingPath + [key]))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type, forKey key: Key
        ) -> KeyedEncodingContainer<NestedKey> {
            let nested = JSONNode.ObjectBox()
            box.set(key.stringValue, .object(nested))
            return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: nested, codingPath: codingPath + [key]))
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let nested = JSONNode.ArrayBox()
            box.set(key.stringValue, .array(nested))
            return UnkeyedContainer(box: nested, codingPath: codingPath + [key])
        }

        mutating func superEncoder() -> any Encoder {
            let encoder = OrderedEncoding(path: codingPath + [AnyCodingKey(stringValue: "super")])
            box.set("super", .encoder(encoder))
            return encoder
        }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            let encoder = OrderedEncoding(path: codingPath + [key])
            box.set(key.stringValue, .encoder(encoder))
            return encoder
        }
    }

    struct UnkeyedContainer: UnkeyedEncodingContainer {
        let box: JSONNode.ArrayBox
        let codingPath: [any CodingKey]
        var count: Int { box.items.count }

        private var nextPath: [any CodingKey] { codingPath + [AnyCodingKey(intValue: box.items.count)] }

        mutating func encodeNil() throws { box.items.append(.null) }
        mutating func encode(_ value: Bool) throws { box.items.append(.bool(value)) }
        mutating func encode(_ value: String) throws { box.items.append(.string(value)) }
        mutating func encode(_ value: Double) throws { box.items.append(try JSONNode.number(value, nextPath)) }
        mutating func encode(_ value: Float) throws { box.items.append(try JSONNode.number(Double(value), nextPath)) }
        mutating func encode(_ value: Int) throws { box.items.append(.number(value.description)) }
        mutating func encode(_ value: Int8) throws { box.items.append(.number(value.description)) }
        mutating func encode(_ value: Int16) throws { box.items.append(.number(value.description)) }
        mutating func encode(_ value: Int32) throws { box.items.append(.number(value.description)) }
        mutating func encode(_ value: Int64) throws { box.items.append(.number(value.description)) }
        mutating func encode(_ value: UInt) throws { box.items.append(.number(value.description)) }
        mutating func encode(_ value: UInt8) throws { box.items.append(.number(value.description)) }
        mutating func encode(_ value: UInt16) throws { box.items.append(.number(value.description)) }
        mutating func encode(_ value: UInt32) throws { box.items.append(.number(value.description)) }
        mutating func encode(_ value: UInt64) throws { box.items.append(.number(value.description)) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            box.items.append(try OrderedEncoding.node(for: value, path: nextPath))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type
        ) -> KeyedEncodingContainer<NestedKey> {
            let path = nextPath
            let nested = JSONNode.ObjectBox()
            box.items.append(.object(nested))
            return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: nested, codingPath: path))
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let path = nextPath
            let nested = JSONNode.ArrayBox()
            box.items.append(.array(nested))
            return UnkeyedContainer(box: nested, codingPath: path)
        }

        mutating func superEncoder() -> any Encoder {
            let encoder = OrderedEncoding(path: nextPath)
            box.items.append(.encoder(encoder))
            return encoder
        }
    }

    struct SingleContainer: SingleValueEncodingContainer {
        let encoder: OrderedEncoding
        var codingPath: [any CodingKey] { encoder.codingPath }

        mutating func encodeNil() throws { encoder.root = .null }
        mutating func encode(_ value: Bool) throws { encoder.root = .bool(value) }
        mutating func encode(_ value: String) throws { encoder.root = .string(value) }
        mutating func encode(_ value: Double) throws { encoder.root = try JSONNode.number(value, codingPath) }
        mutating func encode(_ value: Float) throws { encoder.root = try JSONNode.number(Double(value), codingPath) }
        mutating func encode(_ value: Int) throws { encoder.root = .number(value.description) }
        mutating func encode(_ value: Int8) throws { encoder.root = .number(value.description) }
        mutating func encode(_ value: Int16) throws { encoder.root = .number(value.description) }
        mutating func encode(_ value: Int32) throws { encoder.root = .number(value.description) }
        mutating func encode(_ value: Int64) throws { encoder.root = .number(value.description) }
        mutating func encode(_ value: UInt) throws { encoder.root = .number(value.description) }
        mutating func encode(_ value: UInt8) throws { encoder.root = .number(value.description) }
        mutating func encode(_ value: UInt16) throws { encoder.root = .number(value.description) }
        mutating func encode(_ value: UInt32) throws { encoder.root = .number(value.description) }
        mutating func encode(_ value: UInt64) throws { encoder.root = .number(value.description) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            encoder.root = try OrderedEncoding.node(for: value, path: codingPath)
        }
    }
}
