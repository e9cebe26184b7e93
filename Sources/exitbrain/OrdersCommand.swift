import ArgumentParser
import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient
import Venue

/// `exitbrain orders [SYMBOL]`: the order records of `{ns}:orders` as a table.
struct OrdersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders", abstract: "Show the order records (intended, sent, working, done), read from Redis.")

    @OptionGroup var redis: RedisOptions
    @Argument(help: "Only this symbol.") var symbol: String?
    @Flag(help: "Only orders that may still be working (INTENT, UNKNOWN, NEW, PARTIALLY_FILLED).") var working = false

    func run() async throws {
        let common = redis.resolve()
        let conn = RedisConnection(configuration: common.redis)
        let bus = EventBus(redis: conn, namespace: common.namespace, source: "exitbrain-cli")
        let book = RedisBook(
            plans: PlanStore(redis: conn, namespace: common.namespace, bus: bus), positions: PositionStore(redis: conn, namespace: common.namespace),
            bus: bus)
        do {
            var records: [OrderRecord] = []
            var unreadable: [String] = []
            for row in try await book.orderRecords() {
                do { records.append(try OrderWrite.decode(row.bytes, field: row.field)) } catch {
                    unreadable.append("unreadable \(row.field): \(error)")
                }
            }
            let wanted = symbol?.uppercased()
            records = records.filter { (wanted == nil || $0.key.symbol == wanted) && (!working || $0.status.mayBeWorking) }
            print(OrderTable.render(records))
            for line in unreadable.sorted() { print(line) }
        } catch {
            FileHandle.standardError.write(Data("exitbrain: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Text tables of order records: one line per order, by position, oldest first.
enum OrderTable {
    static let columns = ["KEY", "CLIENT ORDER ID", "PURPOSE", "LEG", "TYPE", "SIDE", "QTY", "TRIGGER", "STATUS", "FILLED", "AVG", "UPDATED"]

    static func render(_ records: [OrderRecord]) -> String {
        if records.isEmpty { return "no orders" }
        let sorted = records.sorted { ($0.key.description, $0.createdAt, $0.clientOrderId) < ($1.key.description, $1.createdAt, $1.clientOrderId) }
        let rows = sorted.map { r in
            [
                r.key.description, r.clientOrderId, r.purpose.rawValue, r.legIndex.map(String.init) ?? "-", r.type.rawValue, r.side.rawValue,
                r.quantity.description, r.triggerPrice?.description ?? "-", r.status.rawValue, r.filledQuantity.description,
                r.averagePrice?.description ?? "-", Timestamp.format(r.updatedAt),
            ]
        }
        let widths = columns.indices.map { i in max(columns[i].count, rows.map { $0[i].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        var out = [line(columns)]
        out += rows.map(line)
        let errors = sorted.compactMap { r in r.error.map { "  \(r.clientOrderId): \($0)" } }
        if !errors.isEmpty { out += ["", "venue's words:"] + errors }
        return out.joined(separator: "\n")
    }
}
