import ExitBrainDomain
import Foundation
import Testing

@Suite struct JSONShapeTests {
    @Test func neutralPlanJSONHasContractKeysInOrder() throws {
        let plan = try Fixture.plan(Fixture.input())
        let text = try PlanJSON.encodeString(plan)
        let keys = [
            "plan_id", "symbol", "side", "status", "version", "strategy_id", "profile", "source",
            "entry_price", "initial_quantity", "remaining_quantity", "leverage", "created_at",
            "updated_at", "confidence", "market_regime", "context", "legs", "trailing", "closed_reason",
        ]
        var last = text.startIndex
        for key in keys {
            let range = try #require(text.range(of: "\"\(key)\":", range: last..<text.endIndex), "\(key) missing or out of order")
            last = range.upperBound
        }
        #expect(!text.contains("time_stop_at"))
        #expect(text.contains("\"closed_reason\":null"))
        #expect(text.contains("\"quantity\":0.003,"))
        #expect(text.contains("\"created_at\":\"2026-11-25T18:38:24.123Z\""))
        #expect(
            text.contains("\"trailing\":{\"enabled\":false,\"callback_pct\":0.0,\"activation_price\":null,\"best_price\":null,\"stop_price\":null}"))
        #expect(!text.contains("filled_price"))
    }
}

@Suite struct JSONRoundTripTests {
    @Test func filledPlanReadsWellAndRoundTrips() throws {
        let executor = PlanExecutor()
        let plan = try Fixture.plan(Fixture.input(context: Fixture.context(trail: 0.015)))
        let evaluated = executor.evaluate(plan: plan, price: 50_751.2, now: Fixture.t0.addingTimeInterval(90.5), mode: .live).plan
        let text = try PlanJSON.encodeString(evaluated)
        #expect(
            text.contains(
                #""status":"FILLED","client_order_id":"eb-6f1c2a9e4b7d4e8a9c3f-0-1","filled_price":50751.2,"filled_at":"2026-11-25T18:39:54.623Z"}"#))
        #expect(
            text.contains(
                #""index":3,"kind":"SL","trigger_pct":0.0008,"trigger_price":50040.0,"size_pct":1.0,"quantity":0.007,"status":"PENDING","client_order_id":"eb-6f1c2a9e4b7d4e8a9c3f-3-2"}"#
            ))
        #expect(text.contains(#""remaining_quantity":0.007,"#))
        #expect(text.contains(#""trailing":{"enabled":true,"callback_pct":0.015,"activation_price":51250.0,"best_price":null,"stop_price":null}"#))
        #expect(try PlanJSON.decode(text) == evaluated)
        #expect(try PlanJSON.decode(Array(text.utf8)) == evaluated)
    }

    @Test func standardJSONEncoderOutputDecodesToo() throws {
        // Other modules may embed a plan in an event with Foundation's encoder: content is the same.
        let plan = try Fixture.plan(Fixture.input(profile: .challenge100))
        let data = try JSONEncoder().encode(plan)
        #expect(try PlanJSON.decode(Array(data)) == plan)
    }

    @Test(arguments: [
        ("{", DomainError.Code.invalidJSON),
        (#"{"plan_id":"x"}"#, .missingField),
        (#"[1,2]"#, .invalidJSON),
    ])
    func badPlanJSONIsRejected(_ text: String, _ code: DomainError.Code) {
        let error = #expect(throws: DomainError.self) { try PlanJSON.decode(text) }
        #expect(error?.code == code)
    }

    @Test func planWithBadLegIndexOrQuantitiesIsRejected() throws {
        let plan = try Fixture.plan(Fixture.input())
        var broken = plan
        broken.legs[1].index = 7
        let text = try PlanJSON.encodeString(broken)
        let error = #expect(throws: DomainError.self) { try PlanJSON.decode(text) }
        #expect(error?.message.contains("legs[1].index") == true)
        var tooMuch = plan
        tooMuch.remainingQuantity = 1
        #expect(throws: DomainError.self) { try PlanJSON.decode(try PlanJSON.encodeString(tooMuch)) }
        var unknownWord = try PlanJSON.encodeString(plan)
        unknownWord = unknownWord.replacingOccurrences(of: #""kind":"SL""#, with: #""kind":"STOP""#)
        let wordError = #expect(throws: DomainError.self) { try PlanJSON.decode(unknownWord) }
        #expect(wordError?.code == .unknownWord)
        #expect(wordError?.message.contains("legs[3].kind") == true)
    }

    @Test func nonFiniteNumbersAreNotEncoded() throws {
        var plan = try Fixture.plan(Fixture.input())
        plan.legs[0].filledPrice = .nan
        #expect(throws: DomainError.self) { try PlanJSON.encode(plan) }
    }

    @Test func stringsAreEscaped() throws {
        let key = #"we"ird\sym"# + "\n\u{1}"
        let snapshot = PositionSnapshot(
            symbol: key, side: .long, quantity: 1, entryPrice: 1, markPrice: 1, leverage: 1,
            unrealizedPnl: 0, openedAt: nil, updatedAt: nil)
        let bytes = try PlanJSON.encodeValue(snapshot)
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(#"{"symbol":"we\"ird\\sym\n\u0001","#))
        #expect(try PlanJSON.decodeValue(PositionSnapshot.self, from: bytes) == snapshot)
    }
}
