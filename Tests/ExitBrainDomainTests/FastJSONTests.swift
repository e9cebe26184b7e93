import Foundation
import Testing

@testable import ExitBrainDomain

/// The hand-written plan and snapshot JSON is held to the Codable reference: the same bytes
/// out, the same values in, and everything it does not take goes to the reference unchanged.
@Suite struct FastJSONTests {
    /// Plans in every state a price path leaves them in: fresh, part-filled, trailing, closed.
    static func plans(count: Int, seed: UInt64) throws -> [ExitPlan] {
        var rng = SplitMix64(seed: seed)
        let executor = PlanExecutor()
        var out: [ExitPlan] = []
        for index in 0..<count {
            let input = PropertyTests.randomInput(&rng, index: index)
            var plan = try Planner().makePlan(input)
            if rng.chance(0.2) { plan.timeStopAt = Timestamp.normalize(plan.createdAt.addingTimeInterval(rng.double(in: 60...86_400))) }
            out.append(plan)
            var price = input.markPrice
            var now = plan.createdAt
            for _ in 0..<40 where plan.isActive {
                price *= 1 + rng.double(in: -0.02...0.021)
                now = now.addingTimeInterval(rng.double(in: 1...300))
                let evaluation = executor.evaluate(plan: plan, price: price, now: now, mode: .live)
                if evaluation.changed {
                    plan = evaluation.plan
                    if rng.chance(0.3) { out.append(plan) }
                }
            }
            if rng.chance(0.3), plan.isActive { plan = executor.close(plan: plan, reason: .positionClosed, now: now) }
            out.append(plan)
        }
        return out
    }

    @Test func writerBytesEqualTheCodableEncoder() throws {
        let plans = try Self.plans(count: 1500, seed: 0xFA57)
        var trailing = 0
        var closed = 0
        var filled = 0
        for plan in plans {
            let fast = try #require(FastPlanJSON.encode(plan))
            let reference = try PlanJSON.codableEncode(plan)
            #expect(fast == reference, "\(plan.key) v\(plan.version): \(String(decoding: fast, as: UTF8.self))")
            if plan.trailing.bestPrice != nil { trailing += 1 }
            if plan.status == .closed { closed += 1 }
            if plan.legs.contains(where: { $0.filledAt != nil }) { filled += 1 }
        }
        // The generated set reaches the states whose optional fields change the bytes.
        #expect(trailing > 50 && closed > 200 && filled > 500, "trailing \(trailing) closed \(closed) filled \(filled)")
    }

    @Test func readerValuesEqualTheCodableDecoder() throws {
        for plan in try Self.plans(count: 1500, seed: 0xDEC0) {
            let bytes = try PlanJSON.codableEncode(plan)
            let fast = bytes.withUnsafeBufferPointer { FastPlanJSON.decodePlan($0) }
            let reference = try PlanJSON.codableDecode(ExitPlan.self, from: bytes)
            #expect(fast == reference)
            #expect(fast == plan)
        }
    }

    @Test func readerTakesSpacingAndKeyOrderLikeTheReference() throws {
        let plan = try Fixture.plan(Fixture.input())
        let compact = String(decoding: try PlanJSON.encode(plan), as: UTF8.self)
        let spaced = compact.replacingOccurrences(of: ",\"", with: ",\n  \"").replacingOccurrences(of: "\":", with: "\" : ")
        let fast = Array(spaced.utf8).withUnsafeBufferPointer { FastPlanJSON.decodePlan($0) }
        #expect(fast == plan)
        // Keys in another order: the trailing object moved to the front.
        let object = try #require(compact.range(of: ",\"trailing\":{")).lowerBound
        let end = try #require(compact.range(of: "},\"closed_reason\"")).lowerBound
        let trailing = String(compact[compact.index(after: object)...end])
        let reordered = "{" + trailing + "," + String(compact.dropFirst().replacingOccurrences(of: "," + trailing, with: ""))
        let moved = Array(reordered.utf8).withUnsafeBufferPointer { FastPlanJSON.decodePlan($0) }
        #expect(moved == plan, "\(reordered)")
    }

    /// Inputs the fast reader must hand to the reference: the reference then either accepts
    /// them (same value as it always gave) or rejects them with its message.
    @Test func readerLeavesEverythingElseToTheReference() throws {
        let plan = try Fixture.plan(Fixture.input())
        let text = String(decoding: try PlanJSON.encode(plan), as: UTF8.self)
        let edits: [(String, String)] = [
            ("\"symbol\":\"BTCUSDT\"", "\"symbol\":\"BTC\\u0055SDT\""),  // escape
            ("{\"plan_id\"", "{\"extra\":1,\"plan_id\""),  // unknown key
            ("\"version\":1", "\"version\":1,\"version\":2"),  // duplicate
            ("\"version\":1", "\"version\":1.0"),
            ("\"leverage\":10.0", "\"leverage\":1e999"),
            ("\"leverage\":10.0", "\"leverage\":-10.0"),
            ("\"leverage\":10.0", "\"leverage\":NaN"),
            ("\"leverage\":10.0", "\"leverage\":010"),
            ("\"side\":\"LONG\"", "\"side\":\"long\""),
            ("\"created_at\":\"", "\"created_at\":\"x"),
            ("\"rl_hints\":{", "\"rl_hints\":{\"tp_pct\":0.01,"),
            ("\"size_pct\":0.3", "\"size_pct\":30"),
            ("\"legs\":[", "\"legs\":[,"),
            ("\"enabled\":false", "\"enabled\":\"false\""),
        ]
        for (pattern, _) in edits { #expect(text.contains(pattern), "fixture lacks \(pattern)") }
        let variants =
            edits.map { text.replacingOccurrences(of: $0.0, with: $0.1) } + [
                String(text.dropLast()),
                text + "x",
                text + "{}",
                "",
                "[]",
                "null",
            ]
        for variant in variants {
            let bytes = Array(variant.utf8)
            #expect(bytes.withUnsafeBufferPointer { FastPlanJSON.decodePlan($0) } == nil, "\(variant.prefix(120))")
            let reference = Result { () throws(DomainError) in try PlanJSON.codableDecode(ExitPlan.self, from: bytes) }
            let public_ = Result { () throws(DomainError) in try PlanJSON.decode(bytes) }
            switch (reference, public_) {
            case (.success(let a), .success(let b)): #expect(a == b)
            case (.failure(let a), .failure(let b)): #expect(a.message == b.message)
            default: Issue.record("PlanJSON.decode and the reference disagree on \(variant.prefix(120))")
            }
        }
        // The escaped symbol is a valid plan the reference reads: the public decoder still reads it.
        #expect(try PlanJSON.decode(variants[0]).symbol == "BTCUSDT")
    }

    @Test func snapshotsRoundTripThroughBothPaths() throws {
        var rng = SplitMix64(seed: 0x5A4D)
        for i in 0..<2000 {
            let entry = Rounding.price(pow(10, rng.double(in: -3...5)))
            let quantity = Rounding.quantity(pow(10, rng.double(in: -4...4)))
            let side = rng.pick(PositionSide.allCases)
            let mark = Rounding.price(entry * (1 + rng.double(in: -0.05...0.05)))
            let snapshot = PositionSnapshot(
                symbol: "S\(i)USDT", side: side, quantity: quantity, entryPrice: entry, markPrice: mark,
                leverage: rng.pick([1, 5, 20, 125]), unrealizedPnl: Rounding.price((mark - entry) * quantity * side.sign),
                openedAt: rng.chance(0.8) ? Timestamp.normalize(Fixture.t0.addingTimeInterval(Double(i))) : nil,
                updatedAt: rng.chance(0.5) ? Timestamp.normalize(Fixture.t0.addingTimeInterval(Double(i) + 1)) : nil)
            let fast = try #require(FastPlanJSON.encode(snapshot))
            #expect(fast == (try PlanJSON.codableEncode(snapshot)))
            let read = fast.withUnsafeBufferPointer { FastPlanJSON.decodeSnapshot($0) }
            #expect(read == snapshot)
            #expect(read == (try PlanJSON.codableDecode(PositionSnapshot.self, from: fast)))
        }
        // Seed-style snapshots are not the fast reader's: the reference reads them.
        let seed = Array(#"{"symbol":"BTCUSDT","positionAmt":"-0.5","entryPrice":"50000"}"#.utf8)
        #expect(seed.withUnsafeBufferPointer { FastPlanJSON.decodeSnapshot($0) } == nil)
        let decoded = try PlanJSON.decodeValue(PositionSnapshot.self, from: seed)
        #expect(decoded.side == .short && decoded.quantity == 0.5)
    }

    @Test func nonFiniteNumbersStillFailWithTheirPath() throws {
        var plan = try Fixture.plan(Fixture.input())
        plan.legs[1].triggerPrice = .infinity
        #expect(FastPlanJSON.encode(plan) == nil)
        #expect(throws: DomainError.self) { try PlanJSON.encode(plan) }
        do {
            _ = try PlanJSON.encode(plan)
        } catch {
            #expect(error.message.contains("trigger_price"), "\(error.message)")
        }
    }
}
