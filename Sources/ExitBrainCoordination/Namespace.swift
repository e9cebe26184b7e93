import ExitBrainDomain

/// The Redis keys and channels of docs/contract.md §4 and §6, all under one prefix (`REDIS_NAMESPACE`).
public struct Namespace: Sendable, Hashable, CustomStringConvertible {
    /// The prefix, e.g. `quantum`.
    public let prefix: String

    /// A namespace; the prefix must be non-empty and free of spaces and `*`.
    public init(_ prefix: String) throws(CoordinationError) {
        guard !prefix.isEmpty, prefix.count <= 64,
            prefix.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "*" && $0 != "?" && $0 != "[" })
        else {
            throw CoordinationError(
                .invalidConfiguration, "REDIS_NAMESPACE=\"\(prefix)\" is not allowed: use 1-64 ASCII characters without spaces or * ? [")
        }
        self.prefix = prefix
    }

    /// The prefix.
    public var description: String { prefix }

    /// `{ns}:exit:plans`: hash of active plans by `SYMBOL:SIDE`.
    public var plans: String { "\(prefix):exit:plans" }
    /// `{ns}:positions`: hash of position snapshots by `SYMBOL:SIDE`.
    public var positions: String { "\(prefix):positions" }
    /// `{ns}:exit:history`: stream of closed plans.
    public var history: String { "\(prefix):exit:history" }
    /// `{ns}:prices`: hash of last prices by symbol.
    public var prices: String { "\(prefix):prices" }
    /// `{ns}:orders`: hash of order records by client order id (docs/contract.md §11).
    public var orders: String { "\(prefix):orders" }
    /// `{ns}:paper:orders`: the paper venue's own book of orders by client order id.
    public var paperOrders: String { "\(prefix):paper:orders" }

    /// `{ns}:lease:{bucket}`: the execution instance holding a bucket of symbols (docs/contract.md §12).
    public func lease(_ bucket: Int) -> String { "\(prefix):lease:\(bucket)" }
    /// `{ns}:fence:{bucket}`: the bucket's fencing token, incremented on every acquisition.
    public func fence(_ bucket: Int) -> String { "\(prefix):fence:\(bucket)" }
    /// `{ns}:instances:{service}`: hash of a service's live instances (instance id → entry JSON),
    /// from which execution instances spread the buckets.
    public func instances(_ service: String) -> String { "\(prefix):instances:\(service)" }

    /// `{ns}:heartbeat:{service}`.
    public func heartbeat(_ service: String) -> String { "\(prefix):heartbeat:\(service)" }
    /// `{ns}:events:{type}`.
    public func channel(_ type: EventType) -> String { "\(prefix):events:\(type.rawValue)" }
    /// The channel name of an event type given as text.
    public func channel(named type: String) -> String { "\(prefix):events:\(type)" }
    /// `{ns}:events:*`: every event.
    public var allEvents: String { "\(prefix):events:*" }
    /// A service instance's own ping channel for the event-bus round trip check.
    public func ping(service: String, instance: String) -> String { "\(prefix):ping:\(service):\(instance)" }

    /// The event type of a channel under this namespace, if it is one.
    public func eventType(ofChannel channel: String) -> String? {
        let head = "\(prefix):events:"
        guard channel.hasPrefix(head) else { return nil }
        return String(channel.dropFirst(head.count))
    }
}
