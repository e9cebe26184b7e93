import CHiredis

/// One reply of the Redis protocol (RESP2, and what hiredis 1.x maps RESP3 onto).
public enum RedisReply: Sendable, Equatable, CustomStringConvertible {
    /// A status line such as `OK` or `QUEUED`.
    case status(String)
    /// An error line such as `ERR unknown command`.
    case error(String)
    /// An integer.
    case integer(Int64)
    /// A bulk string: arbitrary bytes.
    case bulk([UInt8])
    /// The null bulk string or null array.
    case null
    /// An array, possibly nested.
    case array([RedisReply])
    /// A RESP3 type this client does not interpret (hiredis 1.x only), with its text if any.
    case other(type: Int32, text: String?)

    /// The reply as text: status, error and bulk (decoded as UTF-8, with repair), integers.
    public var string: String? {
        switch self {
        case .status(let s), .error(let s): s
        case .bulk(let b): String(decoding: b, as: UTF8.self)
        case .integer(let i): String(i)
        case .other(_, let text): text
        default: nil
        }
    }

    /// The raw bytes of a bulk or status reply.
    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let b): b
        case .status(let s): Array(s.utf8)
        default: nil
        }
    }

    /// An integer reply, or a bulk string holding one.
    public var int: Int64? {
        switch self {
        case .integer(let i): i
        case .bulk, .status: string.flatMap { Int64($0) }
        default: nil
        }
    }

    /// The elements of an array reply.
    public var array: [RedisReply]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// True for the null reply.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// A short rendering for logs and tests.
    public var description: String {
        switch self {
        case .status(let s): "+\(s)"
        case .error(let s): "-\(s)"
        case .integer(let i): ":\(i)"
        case .bulk(let b): "$\"\(String(decoding: b, as: UTF8.self))\""
        case .null: "(nil)"
        case .array(let a): "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .other(let t, let text): "(type \(t)) \(text ?? "")"
        }
    }

    /// Copies a hiredis reply tree into Swift values.
    init(_ r: UnsafePointer<redisReply>) {
        let type = eb_reply_type(r)
        switch type {
        case REDIS_REPLY_STATUS:
            self = .status(RedisReply.text(r))
        case REDIS_REPLY_ERROR:
            self = .error(RedisReply.text(r))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(eb_reply_integer(r)))
        case REDIS_REPLY_STRING:
            self = .bulk(RedisReply.raw(r))
        case REDIS_REPLY_NIL:
            self = .null
        case REDIS_REPLY_ARRAY:
            let n = eb_reply_elements(r)
            var items: [RedisReply] = []
            items.reserveCapacity(n)
            for i in 0..<n {
                if let child = eb_reply_element(r, i) { items.append(RedisReply(child)) } else { items.append(.null) }
            }
            self = .array(items)
        default:
            // RESP3 types of hiredis 1.x (double, bool, map, set, push, …): keep the text form.
            let text: String? = eb_reply_str(r) == nil ? nil : RedisReply.text(r)
            if eb_reply_elements(r) > 0, eb_reply_str(r) == nil {
                var items: [RedisReply] = []
                for i in 0..<eb_reply_elements(r) {
                    if let child = eb_reply_element(r, i) { items.append(RedisReply(child)) }
                }
                self = .array(items)
            } else {
                self = .other(type: type, text: text)
            }
        }
    }

    private static func raw(_ r: UnsafePointer<redisReply>) -> [UInt8] {
        guard let p = eb_reply_str(r) else { return [] }
        let len = eb_reply_len(r)
        return p.withMemoryRebound(to: UInt8.self, capacity: len) { Array(UnsafeBufferPointer(start: $0, count: len)) }
    }

    private static func text(_ r: UnsafePointer<redisReply>) -> String {
        String(decoding: raw(r), as: UTF8.self)
    }
}
