import ExitBrainDomain

/// Why an inbound message was refused; the raw value is the `reason` label of
/// `exitbrain_events_rejected_total` and of `event.rejected`.
public enum RejectionReason: String, Sendable, CaseIterable {
    case tooLarge = "too_large"
    case invalidJSON = "invalid_json"
    case invalidEnvelope = "invalid_envelope"
    case wrongEventType = "wrong_event_type"
    case missingField = "missing_field"
    case wrongType = "wrong_type"
    case invalidNumber = "invalid_number"
    case unknownSide = "unknown_side"
    case fractionExpected = "fraction_expected"
    case unknownKey = "unknown_key"
    case invalidValue = "invalid_value"
    case noPrice = "no_price"
    case rejectedByPlanner = "rejected_by_planner"
    case noPosition = "no_position"
    case refusedByVenue = "refused_by_venue"
}

/// A refused message: its reason and what a person should know.
public struct EventRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason code.
    public let reason: RejectionReason
    /// What was wrong.
    public let message: String

    /// A rejection.
    public init(_ reason: RejectionReason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    /// `reason: message`.
    public var description: String { "\(reason.rawValue): \(message)" }

    /// The rejection for a domain validation error.
    public init(_ error: DomainError) {
        switch error.code {
        case .fractionExpected: self.init(.fractionExpected, error.message)
        case .unknownKey: self.init(.unknownKey, error.message)
        case .missingField: self.init(.missingField, error.message)
        case .invalidJSON: self.init(.wrongType, error.message)
        case .unknownWord, .invalidValue, .mismatch: self.init(.invalidValue, error.message)
        }
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

enum StrictDecoding {
    static func rejectUnknownKeys(_ decoder: any Decoder, allowed: [String], object: String) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        for key in c.allKeys where !allowed.contains(key.stringValue) {
            throw EventRejection(.unknownKey, "\(object): unknown key \"\(key.stringValue.prefix(64))\"; allowed: \(allowed.joined(separator: ", "))")
        }
    }

    /// A symbol: 1–32 characters of A–Z, 0–9 (upper-cased on input).
    static func symbol<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> String {
        let raw = try c.decode(String.self, forKey: key)
        guard let s = symbol(raw) else {
            throw EventRejection(.invalidValue, "symbol \"\(raw.prefix(40))\" must be 1-32 letters and digits, e.g. BTCUSDT")
        }
        return s
    }

    /// `raw` upper-cased, if it is 1-32 letters and digits.
    static func symbol(_ raw: String) -> String? {
        let s = raw.uppercased()
        guard (1...32).contains(s.count), s.allSatisfy({ ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") }) else { return nil }
        return s
    }

    /// A finite number in (0, max].
    static func positive<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K, max: Double) throws -> Double {
        let v = try c.decode(Double.self, forKey: key)
        guard v.isFinite, v > 0, v <= max else {
            throw EventRejection(.invalidNumber, "\(key.stringValue) = \(v) must be a finite number above 0 and at most \(max)")
        }
        return v
    }
}
