import ExitBrainDomain
import Foundation

/// `order.canceled` data (docs/contract.md §6).
public struct OrderCanceledEvent: Codable, Sendable, Equatable {
    /// The order.
    public var clientOrderId: String
    /// `SYMBOL:SIDE`.
    public var key: String
    /// Why it was cancelled (`SUPERSEDED`, `POSITION_CLOSED`, `ORPHANED`, `VENUE`).
    public var reason: String

    /// The event.
    public init(clientOrderId: String, key: String, reason: String) {
        self.clientOrderId = clientOrderId
        self.key = key
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case clientOrderId = "client_order_id"
        case key, reason
    }
}

/// `order.rejected` data (docs/contract.md §6): the venue's code and words.
public struct OrderRejectedEvent: Codable, Sendable, Equatable {
    /// The order.
    public var clientOrderId: String
    /// `SYMBOL:SIDE`.
    public var key: String
    /// The venue's code, when it gave one.
    public var code: Int?
    /// The venue's words.
    public var message: String

    /// The event.
    public init(clientOrderId: String, key: String, code: Int?, message: String) {
        self.clientOrderId = clientOrderId
        self.key = key
        self.code = code
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case clientOrderId = "client_order_id"
        case key, code, message
    }

    /// Encodes `code` as `null` when the venue gave none.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(clientOrderId, forKey: .clientOrderId)
        try c.encode(key, forKey: .key)
        if let code { try c.encode(code, forKey: .code) } else { try c.encodeNil(forKey: .code) }
        try c.encode(message, forKey: .message)
    }
}
