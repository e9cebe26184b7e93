import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient
import Support
import Testing
import Venue

/// The execution service killed at the worst moments of an order's life (the paper venue's
/// crash faults SIGKILL the process there), then started again: each leg has exactly one order
/// at the venue. Real processes, real Redis.
@Suite("Orders across crashes", .serialized, .enabled(if: TestRedis.isCI || TestProcess.find("redis-server") != nil, "needs redis-server"))
struct VenueOrderTests {
    /// Every record of `{ns}:orders`, and of the paper venue's own book.
    static func books(_ f: SystemFixture) async throws -> (records: [String: OrderRecord], venue: [String: OrderRecord]) {
        func read(_ key: String) async throws -> [String: OrderRecord] {
            var out: [String: OrderRecord] = [:]
            let items = try await f.conn.send("HGETALL", key).array ?? []
            var i = 0
            while i + 1 < items.count {
                let field = items[i].string ?? ""
                out[field] = try OrderWrite.decode(items[i + 1].bytes ?? [], field: field)
                i += 2
            }
            return out
        }
        return (try await read(f.namespace.orders), try await read(f.namespace.paperOrders))
    }

    @Test(arguments: ["crash-on-place:STOP_MARKET", "crash-after-accept:STOP_MARKET"])
    func killedMidOrderThenRestartedPlacesEachLegOnce(fault: String) async throws {
        let f = try await SystemFixture("crash-\(fault.prefix(8))")
        let doomed = try f.start(.execution, ["PAPER_FAULTS": fault])
        try await doomed.waitHealth(200, within: .seconds(20))
        try await f.publish(.tradeSignal, f.signalJSON("BTCUSDT", "BUY", quantity: 0.01, price: 50_000))
        try await f.eventually("the execution service killed by the fault", within: .seconds(10)) { !doomed.isRunning }
        #expect(doomed.output.contains("paper venue fault: \(fault.split(separator: ":")[0])"), "\(doomed.output.suffix(1500))")
        let plan = try #require(try await f.plan("BTCUSDT:LONG"), "the plan was stored with its intents before the stop was sent")
        let sl = try #require(plan.stopLossLeg?.clientOrderId)
        var (records, venue) = try await Self.books(f)
        #expect(records[sl]?.status == .intent, "killed before the answer: the record still says INTENT")
        #expect((venue[sl] != nil) == fault.hasPrefix("crash-after-accept"), "the venue has the stop only if it got the request")

        let again = try f.start(.execution)
        try await again.waitHealth(200, within: .seconds(20))
        try await f.eventually("all four exit orders resting", within: .seconds(10)) {
            (try await Self.books(f)).venue.values.filter { $0.purpose == .exit && $0.status == .new }.count == 4
        }
        (records, venue) = try await Self.books(f)
        let exits = venue.values.filter { $0.purpose == .exit }
        #expect(exits.count == 4, "one order per leg at the venue: \(exits.map(\.clientOrderId))")
        #expect(Set(exits.map(\.clientOrderId)) == Set(plan.legs.map(\.clientOrderId)), "under the plan's own client ids")
        #expect(records[sl]?.status == .new && records[sl]?.venueAlgoId == venue[sl]?.venueAlgoId)
        #expect(Set(records.keys) == Set(venue.keys), "every record is one order at the venue")
        await f.stopAll()
    }

    @Test func aStopLeftRestingForAPositionClosedWhileDownIsCancelledOnRestart() async throws {
        let f = try await SystemFixture("crash-orphan")
        let first = try f.start(.execution)
        try await first.waitHealth(200, within: .seconds(20))
        try await f.publish(.tradeSignal, f.signalJSON("ETHUSDT", "SELL", quantity: 1, price: 3_000))
        try await f.eventually("four resting exits", within: .seconds(10)) {
            (try await Self.books(f)).venue.values.filter { $0.purpose == .exit && $0.status == .new }.count == 4
        }
        await first.kill9()
        // While it is down the position is closed at the venue by hand.
        try await f.conn.send("HDEL", f.namespace.positions, "ETHUSDT:SHORT")
        let second = try f.start(.execution)
        try await second.waitHealth(200, within: .seconds(20))
        try await f.eventually("nothing resting for the gone position", within: .seconds(10)) {
            (try await Self.books(f)).venue.values.filter { $0.status == .new }.isEmpty
        }
        #expect(try await f.plan("ETHUSDT:SHORT") == nil, "its plan is closed")
        // The reconciliation that did it (with the buckets it took) logs when it is done.
        try await f.eventually("the reconciliation logged", within: .seconds(5)) { second.output.contains("reconciled with the venue") }
        // Health reports the venue for real: its kind, its book, its open orders.
        let health = try await second.get("/health")
        #expect(health.body.contains(#""exchange":{"status":"OK","details":{"kind":"paper","book":"redis","open_orders":0"#), "\(health.body)")
        await f.stopAll()
    }
}
