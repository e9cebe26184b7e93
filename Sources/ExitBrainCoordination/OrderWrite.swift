import ExitBrainDomain
import Foundation
import RedisClient
import Venue

/// One write of an order record to `{ns}:orders` (docs/contract.md §11), carried by a plan
/// script (so that an intent is stored in the same atomic step as the plan change that asks for
/// it) or by a ``BookWrites`` batch (the venue's answers).
public struct OrderWrite: Sendable, Equatable {
    /// How the record is written.
    public enum Mode: String, Sendable {
        /// Only when no record has this client id (`HSETNX`): an intent never overwrites what
        /// the service already knows of that order.
        case intent = "nx"
        /// Always (`HSET`): the venue's answer, a query's finding.
        case update = "set"
    }

    /// How it is written.
    public let mode: Mode
    /// The hash field.
    public let clientOrderId: String
    /// The record's JSON.
    public let json: [UInt8]
    /// The record written.
    public let record: OrderRecord

    /// The write of `record` in `mode`.
    public init(_ mode: Mode, _ record: OrderRecord) throws(CoordinationError) {
        self.mode = mode
        clientOrderId = record.clientOrderId
        json = record.jsonBytes()
        self.record = record
    }

    /// A new intent.
    public static func intent(_ record: OrderRecord) throws(CoordinationError) -> OrderWrite { try OrderWrite(.intent, record) }
    /// A changed record.
    public static func update(_ record: OrderRecord) throws(CoordinationError) -> OrderWrite { try OrderWrite(.update, record) }

    /// The script arguments of `writes`: (mode, field, JSON) triples.
    static func arguments(_ writes: [OrderWrite]) -> [any RedisArgument] {
        writes.flatMap { [$0.mode.rawValue, $0.clientOrderId, $0.json] as [any RedisArgument] }
    }

    /// The command that applies this write outside a script.
    func command(_ namespace: Namespace) -> RedisCommand {
        RedisCommand([mode == .intent ? "HSETNX" : "HSET", namespace.orders, clientOrderId, json])
    }

    /// Decodes a stored record (the fast scan first, `JSONDecoder` for anything it does not expect).
    public static func decode(_ bytes: [UInt8], field: String) throws(CoordinationError) -> OrderRecord {
        let record: OrderRecord
        if let fast = OrderRecord.fastDecode(bytes) {
            record = fast
        } else {
            do { record = try JSONDecoder().decode(OrderRecord.self, from: Data(bytes)) } catch {
                throw CoordinationError(.corruptRecord, "order at \(field) is not a valid order record: \(error)")
            }
        }
        guard record.clientOrderId == field else {
            throw CoordinationError(.corruptRecord, "order at \(field) is the record of \(record.clientOrderId)")
        }
        return record
    }
}
