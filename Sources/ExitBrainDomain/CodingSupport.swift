import Foundation

// Decoding helpers shared by the Codable conformances: strict keys, words, dates, coding paths.

/// A coding key for any string, used to list the keys an object actually carries.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

/// The dotted JSON path of the decoder's position, e.g. `context.rl_hints`.
func pathText(_ path: [any CodingKey]) -> String {
    var out = ""
    for key in path {
        if let index = key.intValue {
            out += "[\(index)]"
        } else {
            if !out.isEmpty { out += "." }
            out += key.stringValue
        }
    }
    return out
}

/// `parent.field`, or just `field` at the top level.
func fieldPath(_ decoder: any Decoder, _ field: String) -> String {
    let parent = pathText(decoder.codingPath)
    return parent.isEmpty ? field : "\(parent).\(field)"
}

/// Throws ``DomainError/Code/unknownKey`` when the object carries a key outside `allowed`
/// (docs/exit-rules.md defect 4: keys a reader does not understand are never dropped silently).
func rejectUnknownKeys(_ decoder: any Decoder, allowed: [String], object: String) throws {
    let container = try decoder.container(keyedBy: AnyCodingKey.self)
    for key in container.allKeys where !allowed.contains(key.stringValue) {
        let name = pathText(decoder.codingPath).isEmpty ? object : pathText(decoder.codingPath)
        throw DomainError(
            .unknownKey,
            "\(name): unknown key \"\(key.stringValue)\"; allowed keys: \(allowed.joined(separator: ", "))"
        )
    }
}

/// Decodes a word of a string enum, naming the allowed words when it is unknown.
func decodeWord<W: RawRepresentable & CaseIterable>(_ decoder: any Decoder, field: String) throws -> W
where W.RawValue == String {
    let raw = try decoder.singleValueContainer().decode(String.self)
    guard let word = W(rawValue: raw) else {
        let path = pathText(decoder.codingPath)
        throw DomainError.unknownWord(path.isEmpty ? field : path, raw, allowed: W.allCases.map(\.rawValue))
    }
    return word
}

extension KeyedDecodingContainer {
    /// Decodes an ISO 8601 timestamp string (see ``Timestamp``).
    func decodeTimestamp(forKey key: Key) throws -> Date {
        let text = try decode(String.self, forKey: key)
        guard let date = Timestamp.parse(text) else {
            throw DomainError(
                .invalidValue,
                "\(pathText(codingPath + [key])) = \"\(text)\": expected an ISO 8601 UTC timestamp like 2026-11-25T18:38:24.123Z"
            )
        }
        return date
    }

    /// Decodes an optional ISO 8601 timestamp string; absent and `null` give `nil`.
    func decodeTimestampIfPresent(forKey key: Key) throws -> Date? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try decodeTimestamp(forKey: key)
    }

    /// Decodes a required value, throwing ``DomainError/Code/missingField`` when it is absent.
    func require<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        guard contains(key) else { throw DomainError.missing(pathText(codingPath + [key])) }
        return try decode(type, forKey: key)
    }
}

extension KeyedEncodingContainer {
    /// Encodes a date as an ISO 8601 UTC string with milliseconds.
    mutating func encodeTimestamp(_ date: Date, forKey key: Key) throws {
        try encode(Timestamp.format(date), forKey: key)
    }

    /// Encodes an optional date as a timestamp string or JSON `null`.
    mutating func encodeTimestampOrNull(_ date: Date?, forKey key: Key) throws {
        if let date { try encode(Timestamp.format(date), forKey: key) } else { try encodeNil(forKey: key) }
    }
}
