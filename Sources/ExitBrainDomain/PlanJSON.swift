import Foundation

/// The plan JSON of docs/contract.md §5: keys in contract order, byte-identical for equal plans,
/// timestamps `2026-11-25T18:38:24.123Z`, numbers in their shortest round-trip form.
public enum PlanJSON {
    /// Encodes a plan as UTF-8 JSON bytes.
    public static func encode(_ plan: ExitPlan) throws(DomainError) -> [UInt8] {
        if let bytes = FastPlanJSON.encode(plan) { return bytes }
        return try codableEncode(plan)  // throws the error with its path
    }

    /// Encodes a plan as a JSON string (what `redis-cli HGET` shows).
    public static func encodeString(_ plan: ExitPlan) throws(DomainError) -> String {
        String(decoding: try encode(plan), as: UTF8.self)
    }

    /// Decodes and validates a plan.
    public static func decode(_ bytes: some Collection<UInt8>) throws(DomainError) -> ExitPlan {
        let fast =
            bytes.withContiguousStorageIfAvailable { FastPlanJSON.decodePlan($0) }
            ?? Array(bytes).withUnsafeBufferPointer { FastPlanJSON.decodePlan($0) }
        if let fast { return fast }
        return try codableDecode(ExitPlan.self, from: bytes)  // accepts the rest, or says what is wrong
    }

    /// Decodes and validates a plan from a JSON string.
    public static func decode(_ text: String) throws(DomainError) -> ExitPlan {
        try decode(Array(text.utf8))
    }

    /// Encodes any value of this module (or any `Encodable`) with the ordered, deterministic
    /// encoder: keys in the order `encode(to:)` writes them, dates as ISO 8601 milliseconds.
    public static func encodeValue(_ value: some Encodable) throws(DomainError) -> [UInt8] {
        if let plan = value as? ExitPlan { return try encode(plan) }
        if let snapshot = value as? PositionSnapshot, let bytes = FastPlanJSON.encode(snapshot) { return bytes }
        return try codableEncode(value)
    }

    /// The generic Codable encoding (what the fast writers must match byte for byte).
    public static func codableEncode(_ value: some Encodable) throws(DomainError) -> [UInt8] {
        do {
            return try OrderedJSONEncoder().encode(value)
        } catch let error as DomainError {
            throw error
        } catch {
            throw DomainError(.invalidValue, "cannot encode \(type(of: value)): \(error)")
        }
    }

    /// Decodes any `Decodable` of this module (plan, snapshot, context …), mapping every failure
    /// (malformed JSON, missing field, wrong type) to a ``DomainError`` with a readable message.
    public static func decodeValue<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws(DomainError) -> T {
        if T.self == ExitPlan.self, let plan = try decode(bytes) as? T { return plan }
        if T.self == PositionSnapshot.self {
            let fast =
                bytes.withContiguousStorageIfAvailable { FastPlanJSON.decodeSnapshot($0) }
                ?? Array(bytes).withUnsafeBufferPointer { FastPlanJSON.decodeSnapshot($0) }
            if let snapshot = fast as? T { return snapshot }
        }
        return try codableDecode(type, from: bytes)
    }

    /// The generic Codable decoding (the reference the fast readers are held to).
    public static func codableDecode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws(DomainError) -> T {
        let data = Data(bytes)
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DomainError {
            throw error
        } catch let DecodingError.keyNotFound(key, context) {
            throw DomainError.missing(pathText(context.codingPath + [key]))
        } catch let DecodingError.typeMismatch(expected, context) {
            throw DomainError(.invalidJSON, "\(pathOrRoot(context.codingPath)): expected \(describe(expected))")
        } catch let DecodingError.valueNotFound(expected, context) {
            throw DomainError(.invalidJSON, "\(pathOrRoot(context.codingPath)): expected \(describe(expected)), found null")
        } catch let DecodingError.dataCorrupted(context) {
            throw DomainError(.invalidJSON, "\(pathOrRoot(context.codingPath)): \(context.debugDescription)")
        } catch {
            throw DomainError(.invalidJSON, "not valid JSON for \(type): \(error)")
        }
    }

    private static func pathOrRoot(_ path: [any CodingKey]) -> String {
        let text = pathText(path)
        return text.isEmpty ? "document" : text
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Int.Type: "a number"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        default: "\(type)"
        }
    }
}
