import ExitBrainDomain
import Foundation

/// The envelope every bus message travels in (docs/contract.md §6).
public struct EnvelopeMeta: Sendable, Equatable {
    /// Message id (a UUID).
    public var id: String
    /// Event type, e.g. `trade.signal`.
    public var type: String
    /// The sender, e.g. `execution-service`.
    public var source: String
    /// When it was sent (ISO 8601 UTC, milliseconds).
    public var ts: String

    /// Envelope fields.
    public init(id: String, type: String, source: String, ts: String) {
        self.id = id
        self.type = type
        self.source = source
        self.ts = ts
    }
}

/// Builds envelope bytes. The data part is JSON written elsewhere (the domain's ordered encoder,
/// or a stored plan) and spliced in unchanged.
public enum EventEnvelope {
    /// Messages larger than this are refused unread.
    public static let maximumSize = 64 * 1024

    /// `{"id":…,"type":…,"source":…,"ts":…,"data":<data>}`.
    public static func make(type: EventType, source: String, now: Date, data: [UInt8]) -> [UInt8] {
        var out = head(type: type, source: source, now: now, capacity: data.count + 1)
        out += data
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Everything of an envelope before its data: `{"id":…,"type":…,"source":…,"ts":…,"data":`.
    /// `capacity` is what the caller will append.
    public static func head(type: EventType, source: String, now: Date, capacity: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + source.utf8.count + capacity)
        out += "{\"id\":\"".utf8
        out += RandomUUID.string().utf8
        out += "\",\"type\":\"".utf8
        out += type.rawValue.utf8
        out += "\",\"source\":".utf8
        out += JSONText.quoted(source).utf8
        out += ",\"ts\":\"".utf8
        Timestamp.write(now, to: &out)
        out += "\",\"data\":".utf8
        return out
    }

    /// Encodes a data value with the ordered encoder and wraps it.
    public static func make(type: EventType, source: String, now: Date, value: some Encodable) throws(CoordinationError) -> [UInt8] {
        do {
            return make(type: type, source: source, now: now, data: try PlanJSON.encodeValue(value))
        } catch {
            throw CoordinationError(error)
        }
    }

    /// `exit_plan.created` data: the stored plan's bytes and the retroactive flag.
    public static func planCreatedData(planJSON: [UInt8], retroactive: Bool) -> [UInt8] {
        planCreatedHead + planJSON + planCreatedTail(retroactive: retroactive)
    }

    /// `exit_plan.created` data before the plan: the plan store's script splices the stored
    /// plan between this and ``planCreatedTail(retroactive:)`` so the plan crosses the wire once.
    public static let planCreatedHead = Array("{\"plan\":".utf8)

    /// `exit_plan.created` data after the plan, closing the envelope too when `closeEnvelope`.
    public static func planCreatedTail(retroactive: Bool, closeEnvelope: Bool = false) -> [UInt8] {
        Array(",\"retroactive\":\(retroactive)}\(closeEnvelope ? "}" : "")".utf8)
    }
}

private struct Envelope<D: Decodable>: Decodable {
    var id: String
    var type: String
    var source: String
    var ts: String
    var data: D
}

/// An inbound message that passed validation.
public enum InboundEvent: Sendable, Equatable {
    /// A `trade.signal`.
    case signal(TradeSignal, EnvelopeMeta)
    /// A `market.tick`.
    case tick(MarketTick, EnvelopeMeta)
    /// A `service.heartbeat`.
    case heartbeat(HeartbeatEvent, EnvelopeMeta)

    /// The envelope.
    public var meta: EnvelopeMeta {
        switch self {
        case .signal(_, let m), .tick(_, let m), .heartbeat(_, let m): m
        }
    }

    /// The event types this decoder understands.
    public static let decodableTypes: [EventType] = [.tradeSignal, .marketTick, .heartbeat]

    /// Validates one message from `type`'s channel: size, JSON, envelope, then the data. A tick
    /// goes the fast way first (``FastTickDecoding``): what it does not take goes the Codable way.
    public static func decode(type: EventType, payload: [UInt8]) -> Result<InboundEvent, EventRejection> {
        if type == .marketTick, payload.count <= EventEnvelope.maximumSize, let (tick, meta) = FastTickDecoding.decode(payload) {
            return .success(.tick(tick, meta))
        }
        return decodeWithCodable(type: type, payload: payload)
    }

    /// ``decode(type:payload:)`` the Codable way: every message's reference.
    public static func decodeWithCodable(type: EventType, payload: [UInt8]) -> Result<InboundEvent, EventRejection> {
        guard payload.count <= EventEnvelope.maximumSize else {
            return .failure(EventRejection(.tooLarge, "message of \(payload.count) bytes exceeds the \(EventEnvelope.maximumSize)-byte limit"))
        }
        do {
            switch type {
            case .tradeSignal:
                let e = try decodeEnvelope(TradeSignal.self, type: type, payload: payload)
                return .success(.signal(e.data, meta(e)))
            case .marketTick:
                let e = try decodeEnvelope(MarketTick.self, type: type, payload: payload)
                return .success(.tick(e.data, meta(e)))
            case .heartbeat:
                let e = try decodeEnvelope(HeartbeatEvent.self, type: type, payload: payload)
                return .success(.heartbeat(e.data, meta(e)))
            default:
                return .failure(EventRejection(.wrongEventType, "\(type.rawValue) is not accepted here"))
            }
        } catch let rejection as EventRejection {
            return .failure(rejection)
        } catch let error as DomainError {
            return .failure(EventRejection(error))
        } catch let DecodingError.keyNotFound(key, context) {
            return .failure(EventRejection(.missingField, "\(path(context.codingPath + [key])) is required"))
        } catch let DecodingError.typeMismatch(expected, context) {
            return .failure(EventRejection(.wrongType, "\(path(context.codingPath)) must be \(describe(expected))"))
        } catch let DecodingError.valueNotFound(expected, context) {
            return .failure(EventRejection(.wrongType, "\(path(context.codingPath)) must be \(describe(expected)), not null"))
        } catch let DecodingError.dataCorrupted(context) {
            if context.codingPath.isEmpty {
                return .failure(EventRejection(.invalidJSON, "not valid JSON"))
            }
            return .failure(EventRejection(.invalidValue, "\(path(context.codingPath)): \(context.debugDescription)"))
        } catch {
            return .failure(EventRejection(.invalidJSON, "not valid JSON"))
        }
    }

    private static func decodeEnvelope<D: Decodable>(_ d: D.Type, type: EventType, payload: [UInt8]) throws -> Envelope<D> {
        let decoder = JSONDecoder()
        let data = Data(payload)
        // One decode of a good message. One that fails is read again for its envelope alone,
        // so a message without one (or of another type) is named as such rather than by its data.
        let whole: Envelope<D>
        do { whole = try decoder.decode(Envelope<D>.self, from: data) } catch {
            let header: EnvelopeHeader
            do {
                header = try decoder.decode(EnvelopeHeader.self, from: data)
            } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
                throw EventRejection(.invalidJSON, "not valid JSON")
            } catch {
                throw EventRejection(.invalidEnvelope, "not an envelope {id, type, source, ts, data}: \(short(error))")
            }
            try check(header.type, on: type)
            throw error
        }
        try check(whole.type, on: type)
        return whole
    }

    private static func check(_ envelopeType: String, on type: EventType) throws {
        guard envelopeType == type.rawValue else {
            throw EventRejection(.wrongEventType, "envelope type \"\(envelopeType.prefix(40))\" on the \(type.rawValue) channel")
        }
    }

    private static func meta<D>(_ e: Envelope<D>) -> EnvelopeMeta {
        EnvelopeMeta(id: e.id, type: e.type, source: e.source, ts: e.ts)
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Int.Type: "a number"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        default: "an object"
        }
    }

    private static func short(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "\(key.stringValue) is missing"
        case DecodingError.typeMismatch(_, let c): "\(path(c.codingPath)) has the wrong type"
        case DecodingError.valueNotFound(_, let c): "\(path(c.codingPath)) is null"
        default: "malformed"
        }
    }
}

private struct EnvelopeHeader: Decodable {
    var id: String
    var type: String
    var source: String
    var ts: String
    var data: Present

    /// Only checks that `data` is an object.
    struct Present: Decodable {
        init(from decoder: any Decoder) throws { _ = try decoder.container(keyedBy: AnyKey.self) }
    }
}
