import ExitBrainDomain
import Foundation

/// Writes that go to the book in one step, in order: position snapshots, order records and events, each
/// encoded when it is added (so an encoding error surfaces there, not half-way through a send).
/// A fill's position write and its `order.filled` / `position.updated` events travel as one
/// `BookWrites`, alone or ahead of the plan's get-or-create.
public struct BookWrites: Sendable {
    /// One write.
    public enum Write: Sendable, Equatable {
        /// Store this snapshot JSON under the position's field.
        case position(key: PositionKey, json: [UInt8])
        /// Publish this envelope on the event type's channel.
        case event(EventType, envelope: [UInt8])
        /// Write an order record.
        case order(OrderWrite)
    }

    /// The writes, in order.
    public private(set) var writes: [Write] = []
    /// The `source` written in every envelope.
    public let source: String

    /// An empty batch whose events are published as `source`.
    public init(source: String) { self.source = source }

    /// Whether there is nothing to write.
    public var isEmpty: Bool { writes.isEmpty }

    /// Adds a position snapshot.
    public mutating func put(_ snapshot: PositionSnapshot) throws(CoordinationError) {
        let json: [UInt8]
        do { json = try PlanJSON.encodeValue(snapshot) } catch { throw CoordinationError(error) }
        writes.append(.position(key: snapshot.key, json: json))
    }

    /// Adds an order record's write.
    public mutating func put(_ order: OrderWrite) { writes.append(.order(order)) }

    /// Adds an event whose data is ready JSON.
    public mutating func publish(_ type: EventType, data: [UInt8], now: Date) {
        writes.append(.event(type, envelope: EventEnvelope.make(type: type, source: source, now: now, data: data)))
    }

    /// Adds an event.
    public mutating func publish(_ type: EventType, _ value: some Encodable, now: Date) throws(CoordinationError) {
        writes.append(.event(type, envelope: try EventEnvelope.make(type: type, source: source, now: now, value: value)))
    }
}
