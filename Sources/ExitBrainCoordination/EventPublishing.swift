import ExitBrainDomain
import Foundation

/// Where a component publishes its events: the bus (``EventBus``), or whatever a test puts in
/// its place.
public protocol EventPublishing: Sendable {
    /// The `source` written in every envelope.
    var source: String { get }
    /// Publishes ready envelope bytes; returns how many subscribers received them.
    @discardableResult
    func publish(_ type: EventType, envelope: [UInt8]) async throws(CoordinationError) -> Int
    /// Applies every write of the batch, in order, in one round trip.
    func commit(_ writes: BookWrites) async throws(CoordinationError)
}

extension EventPublishing {
    /// Publishes a data value; returns how many subscribers received it.
    @discardableResult
    public func publish(_ type: EventType, _ value: some Encodable & Sendable, now: Date = Date()) async throws(CoordinationError) -> Int {
        try await publish(type, envelope: try EventEnvelope.make(type: type, source: source, now: now, value: value))
    }

    /// An empty batch whose events carry this publisher's source.
    public func writes() -> BookWrites { BookWrites(source: source) }
}
