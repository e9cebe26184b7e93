import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient
import Support
import Testing
import Venue

@Suite("Plan store on real Redis", .enabled(if: TestRedis.enabled))
struct PlanStoreTests {
    @Test func raceOfEightTasksOverTwoConnectionsGivesOnePlanPerPosition() async throws {
        let f = try await CoordinationFixture(label: "race")
        let second = RedisConnection(configuration: f.config)
        let stores = [
            f.plans, PlanStore(redis: second, namespace: f.namespace, bus: EventBus(redis: second, namespace: f.namespace, source: "other")),
        ]
        let listener = await Listener(config: f.config, pattern: f.namespace.channel(.planCreated))
        let symbols = (0..<100).map { "SYM\($0)USDT" }
        let results = try await withThrowingTaskGroup(of: [(String, ExitPlan, Bool)].self) { group in
            for t in 0..<8 {
                group.addTask {
                    var out: [(String, ExitPlan, Bool)] = []
                    for s in symbols {
                        let candidate = try CoordinationFixture.plan(symbol: s)
                        let r = try await stores[t % 2].getOrCreate(candidate, retroactive: t % 2 == 1)
                        out.append((s, r.plan, r.created))
                    }
                    return out
                }
            }
            var all: [(String, ExitPlan, Bool)] = []
            for try await r in group { all += r }
            return all
        }
        let messages = await listener.collect(count: 100)
        let stored = try await f.plans.all()
        #expect(stored.plans.count == 100)
        #expect(stored.corrupt.isEmpty)
        #expect(results.filter { $0.2 }.count == 100, "exactly one creator per position")
        #expect(messages.count == 100, "exactly one exit_plan.created per position")
        for (symbol, plan, _) in results {
            #expect(stored.plans[PositionKey(symbol: symbol, side: .long)]?.planId == plan.planId, "every caller got the stored plan")
        }
        // Each event is one envelope whose data holds the stored plan and the creator's flag
        // (tasks on the second connection asked for retroactive plans).
        let creators = Dictionary(uniqueKeysWithValues: results.filter { $0.2 }.map { ($0.1.planId, $0.1) })
        for message in messages {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any])
            #expect(object["type"] as? String == "exit_plan.created")
            #expect(Set(object.keys) == ["id", "type", "source", "ts", "data"])
            let data = try #require(object["data"] as? [String: Any])
            let planData = try JSONSerialization.data(withJSONObject: try #require(data["plan"]))
            let plan = try PlanJSON.decode(Array(planData))
            let stored = try #require(creators[plan.planId])
            #expect(plan == stored)
            #expect(data["retroactive"] as? Bool == (object["source"] as? String == "other"))
        }
        await f.cleanup()
    }

    static func record(_ plan: ExitPlan, leg: Int, type: OrderType = .takeProfitMarket, quantity: String = "0.003") -> OrderRecord {
        let leg = plan.legs[leg]
        let request = OrderRequest(
            clientOrderId: leg.clientOrderId, symbol: plan.symbol, side: plan.side.exitOrderSide, positionSide: plan.side, purpose: .exit,
            type: type, quantity: Decimal(string: quantity)!, triggerPrice: Decimal(leg.triggerPrice))
        return OrderRecord(intent: request, key: plan.key, planId: plan.planId, legIndex: leg.index, at: Date())
    }

    @Test func orderIntentsAreWrittenOnlyWithThePlanChangeThatAsksForThem() async throws {
        let f = try await CoordinationFixture(label: "orders")
        let plan = try CoordinationFixture.plan(symbol: "BTCUSDT")
        let first = Self.record(plan, leg: 3, type: .stopMarket, quantity: "0.010")
        _ = try await f.plans.getOrCreate(plan, retroactive: false, orders: [try .intent(first)])
        #expect(try await f.redis.send("HEXISTS", f.namespace.orders, first.clientOrderId) == .integer(1), "created with its intents")
        // A second get-or-create finds the plan: its intents are not written.
        let other = Self.record(plan, leg: 2)
        _ = try await f.plans.getOrCreate(plan, retroactive: false, orders: [try .intent(other)])
        #expect(try await f.redis.send("HEXISTS", f.namespace.orders, other.clientOrderId) == .integer(0))
        let intent = Self.record(plan, leg: 0)
        var next = plan
        next.version += 1
        // A stale version: a conflict, and no intent.
        let stale = try await f.plans.update(next, expectedVersion: plan.version + 5, event: nil, orders: [try .intent(intent)])
        guard case .conflict = stale else {
            Issue.record("expected a conflict, got \(stale)")
            return
        }
        #expect(try await f.redis.send("HEXISTS", f.namespace.orders, intent.clientOrderId) == .integer(0))
        // The right version: written, and the intent with it, as the contract's JSON.
        #expect(try await f.plans.update(next, expectedVersion: plan.version, event: nil, orders: [try .intent(intent)]) == .written)
        let stored = try #require(try await f.redis.send("HGET", f.namespace.orders, intent.clientOrderId).bytes)
        #expect(try OrderWrite.decode(stored, field: intent.clientOrderId) == intent)
        #expect(String(decoding: stored, as: UTF8.self).hasPrefix("{\"client_order_id\":\"\(intent.clientOrderId)\",\"key\":\"BTCUSDT:LONG\""))
        // An intent never overwrites what is known of the order; an update does.
        var third = next
        third.version += 1
        var answered = intent
        answered.status = .new
        #expect(try await f.plans.update(third, expectedVersion: next.version, event: nil, orders: [try .update(answered)]) == .written)
        var fourth = third
        fourth.version += 1
        #expect(try await f.plans.update(fourth, expectedVersion: third.version, event: nil, orders: [try .intent(intent)]) == .written)
        let kept = try #require(try await f.redis.send("HGET", f.namespace.orders, intent.clientOrderId).bytes)
        #expect(try OrderWrite.decode(kept, field: intent.clientOrderId).status == .new)
        // A close carries its records the same way.
        var closed = fourth
        closed.version += 1
        closed.status = .closed
        closed.closedReason = .stopLoss
        let stop = Self.record(plan, leg: 1)
        #expect(
            try await f.plans.close(closed, expectedVersion: fourth.version - 1, realizedPnl: 0, position: .keep, orders: [try .intent(stop)])
                != .written)
        #expect(try await f.redis.send("HEXISTS", f.namespace.orders, stop.clientOrderId) == .integer(0))
        #expect(
            try await f.plans.close(closed, expectedVersion: fourth.version, realizedPnl: 0, position: .keep, orders: [try .intent(stop)]) == .written
        )
        #expect(try await f.redis.send("HEXISTS", f.namespace.orders, stop.clientOrderId) == .integer(1))
        await f.cleanup()
    }

    @Test func compareAndSetDetectsConflicts() async throws {
        let f = try await CoordinationFixture(label: "cas")
        let plan = try CoordinationFixture.plan(symbol: "BTCUSDT")
        _ = try await f.plans.getOrCreate(plan, retroactive: false)
        var next = plan
        next.version = 2
        let event = PlanUpdatedEvent(key: plan.key.description, planId: plan.planId, version: 2, change: "SL_MOVED", changes: ["SL_MOVED"])
        #expect(try await f.plans.update(next, expectedVersion: 1, event: event) == .written)
        // A writer still holding version 1 loses and sees version 2.
        var stale = plan
        stale.version = 2
        stale.remainingQuantity = 0.005
        let outcome = try await f.plans.update(stale, expectedVersion: 1, event: event)
        guard case .conflict(let current) = outcome else {
            Issue.record("expected a conflict, got \(outcome)")
            return
        }
        #expect(current?.version == 2)
        #expect(try await f.plans.get(plan.key)?.remainingQuantity == plan.remainingQuantity)
        // Another plan for the same position (a re-entry) is never overwritten by the old one.
        let other = try CoordinationFixture.plan(symbol: "ETHUSDT")
        _ = try await f.plans.getOrCreate(other, retroactive: false)
        var impostor = try CoordinationFixture.plan(symbol: "ETHUSDT")
        impostor.version = 2
        if case .conflict = try await f.plans.update(impostor, expectedVersion: 1, event: nil) {
        } else {
            Issue.record("a different plan id must conflict")
        }
        #expect(try await f.plans.update(try CoordinationFixture.plan(symbol: "NOPEUSDT"), expectedVersion: 1, event: nil) == .missing)
        await f.cleanup()
    }

    @Test func closeIsAllOrNothing() async throws {
        let f = try await CoordinationFixture(label: "close")
        let plan = try CoordinationFixture.plan(symbol: "BTCUSDT")
        _ = try await f.plans.getOrCreate(plan, retroactive: false)
        let snapshot = PositionSnapshot(
            symbol: "BTCUSDT", side: .long, quantity: 0.01, entryPrice: 50_000, markPrice: 50_000, leverage: 10,
            unrealizedPnl: 0, openedAt: CoordinationFixture.now, updatedAt: CoordinationFixture.now)
        try await f.positions.put(snapshot)
        let listener = await Listener(config: f.config, pattern: f.namespace.channel(.planClosed))
        var closed = PlanExecutor().close(plan: plan, reason: .positionClosed, now: CoordinationFixture.now)
        // A stale version changes nothing: plan stays, no history entry.
        var wrong = closed
        wrong.version = 99
        if case .conflict = try await f.plans.close(wrong, expectedVersion: 7, realizedPnl: 0, position: .delete) {
        } else {
            Issue.record("a stale close must conflict")
        }
        #expect(try await f.redis.send("XLEN", f.namespace.history) == .integer(0))
        #expect(try await f.plans.get(plan.key) != nil)
        #expect(try await f.positions.get(snapshot.key) != nil)
        closed.version = plan.version + 1
        #expect(try await f.plans.close(closed, expectedVersion: plan.version, realizedPnl: 1.5, position: .delete) == .written)
        #expect(try await f.plans.get(plan.key) == nil)
        #expect(try await f.positions.get(snapshot.key) == nil)
        let history = try await f.plans.history(count: 10)
        #expect(history.count == 1)
        #expect(history.first?.planId == plan.planId)
        #expect(history.first?.status == .closed)
        let messages = await listener.collect(count: 1)
        #expect(messages.count == 1)
        let text = String(decoding: messages.first?.payload ?? [], as: UTF8.self)
        #expect(text.contains("\"closed_reason\":\"POSITION_CLOSED\""))
        #expect(text.contains("\"realized_pnl\":1.5"))
        // A new position on the same symbol gets a new plan.
        let again = try CoordinationFixture.plan(symbol: "BTCUSDT")
        let r = try await f.plans.getOrCreate(again, retroactive: false)
        #expect(r.created && r.plan.planId == again.planId)
        await f.cleanup()
    }

    @Test func closeAllClosesEachAsCloseDoesInOneRoundTrip() async throws {
        let f = try await CoordinationFixture(label: "close-all")
        let plans = try ["AUSDT", "BUSDT", "CUSDT"].map { try CoordinationFixture.plan(symbol: $0) }
        for plan in plans { _ = try await f.plans.getOrCreate(plan, retroactive: false) }
        let closings = plans.enumerated().map { i, plan in
            var closed = PlanExecutor().close(plan: plan, reason: .stopLoss, now: CoordinationFixture.now)
            closed.version = plan.version + 1
            // The second is stale: it must conflict and change nothing, the others close.
            return PlanStore.Closing(plan: closed, expectedVersion: i == 1 ? 7 : plan.version, realizedPnl: -1, position: .delete)
        }
        // The script loaded first (a single close), so the count below is the pipeline's alone.
        let warm = try CoordinationFixture.plan(symbol: "DUSDT")
        _ = try await f.plans.getOrCreate(warm, retroactive: false)
        var warmClosed = PlanExecutor().close(plan: warm, reason: .stopLoss, now: CoordinationFixture.now)
        warmClosed.version = warm.version + 1
        #expect(try await f.plans.close(warmClosed, expectedVersion: warm.version, realizedPnl: 0, position: .delete) == .written)
        let before = f.plans.roundTrips
        let outcomes = try await f.plans.closeAll(closings)
        #expect(f.plans.roundTrips - before == 1, "one pipeline")
        #expect(outcomes.count == 3 && outcomes[0] == .written && outcomes[2] == .written)
        guard case .conflict = outcomes[1] else {
            Issue.record("a stale close must conflict: \(outcomes[1])")
            return
        }
        #expect(try await f.plans.get(plans[0].key) == nil)
        #expect(try await f.plans.get(plans[2].key) == nil)
        #expect(try await f.plans.get(plans[1].key)?.version == plans[1].version)
        #expect(Set(try await f.plans.history(count: 10).map(\.planId)) == [warm.planId, plans[0].planId, plans[2].planId])
        #expect(try await f.plans.closeAll([]).isEmpty)
        await f.cleanup()
    }

    @Test func storedPlanReadsWellInRedisCLI() async throws {
        let f = try await CoordinationFixture(label: "cli")
        let plan = try CoordinationFixture.plan(symbol: "BTCUSDT")
        _ = try await f.plans.getOrCreate(plan, retroactive: false)
        let raw = try await f.redis.send("HGET", f.namespace.plans, "BTCUSDT:LONG").string ?? ""
        #expect(raw.hasPrefix("{\"plan_id\":\"\(plan.planId)\",\"symbol\":\"BTCUSDT\",\"side\":\"LONG\",\"status\":\"ACTIVE\",\"version\":1,"))
        #expect(try await f.plans.count() == 1)
        // A corrupt field is reported, not fatal.
        try await f.redis.send("HSET", f.namespace.plans, "BAD:LONG", "{not json")
        let all = try await f.plans.all()
        #expect(all.plans.count == 1)
        #expect(all.corrupt["BAD:LONG"] != nil)
        await f.cleanup()
    }

    @Test func positionsBulkReadAndSeedStyle() async throws {
        let f = try await CoordinationFixture(label: "pos")
        for i in 0..<5 {
            try await f.positions.put(
                PositionSnapshot(
                    symbol: "S\(i)USDT", side: i % 2 == 0 ? .long : .short, quantity: 1, entryPrice: 10, markPrice: 10,
                    leverage: 5, unrealizedPnl: 0, openedAt: nil, updatedAt: nil))
        }
        try await f.redis.send(
            "HSET", f.namespace.positions, "SEEDUSDT:SHORT", #"{"symbol":"SEEDUSDT","positionAmt":"-2.5","entryPrice":"100","markPrice":"101"}"#)
        let all = try await f.positions.all()
        #expect(all.positions.count == 6)
        #expect(all.positions[PositionKey(symbol: "SEEDUSDT", side: .short)]?.quantity == 2.5)
        let some = try await f.positions.get([PositionKey(symbol: "S1USDT", side: .short), PositionKey(symbol: "NONE", side: .long)])
        #expect(some.count == 1)
        await f.cleanup()
    }

    @Test func aFullReadComesInSlicesAndHoldsEveryFieldOnce() async throws {
        let f = try await CoordinationFixture(label: "scan")
        let book = RedisBook(plans: f.plans, positions: f.positions, bus: f.bus)
        let count = RedisBook.scanSlice * 4 + 17
        var expected: [String: [UInt8]] = [:]
        var fill: [RedisCommand] = []
        for i in 0..<count {
            let field = "S\(i)USDT:LONG"
            let bytes = Array("{\"n\":\(i),\"pad\":\"\(String(repeating: "x", count: 100))\"}".utf8)
            expected[field] = bytes
            fill.append(RedisCommand(["HSET", f.namespace.plans, field, bytes]))
        }
        fill.append(RedisCommand(["HSET", f.namespace.positions, "A:LONG", "1", "B:SHORT", "2"]))
        _ = try await f.redis.pipeline(fill)
        let before = book.roundTrips
        let all = try await book.readAll([.plans, .positions])
        let trips = book.roundTrips - before
        #expect(all[0].count == count, "every plan once: \(all[0].count) of \(count)")
        #expect(Set(all[0].map(\.field)).count == all[0].count, "no field twice")
        #expect(all[0].allSatisfy { expected[$0.field] == $0.bytes }, "each field with its bytes")
        #expect(
            Set(all[1].map(\.field)) == ["A:LONG", "B:SHORT"] && all[1].map(\.bytes).sorted { $0.lexicographicallyPrecedes($1) } == [[49], [50]])
        // Slices of about `scanSlice` fields: several round trips for the plans, the small
        // hash's one pipelined with the first.
        #expect(trips >= count / RedisBook.scanSlice / 2 && trips <= count / RedisBook.scanSlice * 4, "\(trips) round trips")
        let beforeSmall = book.roundTrips
        #expect(try await book.readAll([.positions])[0].count == 2)
        #expect(book.roundTrips - beforeSmall == 1, "a small hash: one round trip, as HGETALL")
        await f.cleanup()
    }
}
