import ExitBrainDomain
import Foundation
import Testing

/// Units, unknown keys, unknown words, non-finite and non-positive numbers.
@Suite struct ValidationTests {
    func decode<T: Decodable>(_ type: T.Type, _ json: String) throws(DomainError) -> T {
        try PlanJSON.decodeValue(type, from: Array(json.utf8))
    }

    @Test func hintsDecode() throws {
        let hints = try decode(RLHints.self, #"{"tp_target_pct":0.02,"sl_target_pct":0.01,"trail_callback_pct":0.005,"confidence":0.8}"#)
        #expect(hints == RLHints(tpTargetPct: 0.02, slTargetPct: 0.01, trailCallbackPct: 0.005, confidence: 0.8))
    }

    @Test func unknownHintKeyIsRejectedNamingAllowedKeys() {
        let error = #expect(throws: DomainError.self) { try decode(RLHints.self, #"{"tp_pct":0.02}"#) }
        #expect(error?.code == .unknownKey)
        #expect(error?.message.contains("\"tp_pct\"") == true)
        #expect(error?.message.contains("tp_target_pct, sl_target_pct, trail_callback_pct, confidence") == true)
    }

    @Test(arguments: [
        #"{"rl_hints":{"confidence":0.8,"sl_pct":0.01}}"#,
        #"{"risk_context":{"mode":"NORMAL"}}"#,
        #"{"market_data":{"vol":0.02}}"#,
        #"{"hints":{}}"#,
    ])
    func unknownKeysAnywhereInContextAreRejected(_ json: String) {
        let error = #expect(throws: DomainError.self) { try decode(PlanContext.self, json) }
        #expect(error?.code == .unknownKey)
    }

    @Test func unknownKeyErrorNamesThePath() {
        let error = #expect(throws: DomainError.self) {
            try decode(PlanContext.self, #"{"rl_hints":{"tp":0.01}}"#)
        }
        #expect(error?.message.hasPrefix("rl_hints: unknown key \"tp\"") == true)
    }

    @Test(arguments: [
        #"{"rl_hints":{"tp_target_pct":1.5}}"#,
        #"{"rl_hints":{"sl_target_pct":1.0}}"#,
        #"{"rl_hints":{"trail_callback_pct":2}}"#,
        #"{"risk_context":{"max_loss_pct":2.5}}"#,
        #"{"market_data":{"atr_pct":1}}"#,
    ])
    func percentInsteadOfFractionIsRejected(_ json: String) {
        let error = #expect(throws: DomainError.self) { try decode(PlanContext.self, json) }
        #expect(error?.code == .fractionExpected)
        #expect(error?.message.contains("fractions expected (0.015 = 1.5 %)") == true)
    }

    @Test(arguments: [
        #"{"rl_hints":{"tp_target_pct":0}}"#,
        #"{"rl_hints":{"sl_target_pct":-0.01}}"#,
        #"{"rl_hints":{"confidence":1.2}}"#,
        #"{"rl_hints":{"confidence":-0.1}}"#,
        #"{"market_data":{"trend_strength":1.5}}"#,
        #"{"market_data":{"volatility":-0.01}}"#,
    ])
    func outOfRangeValuesAreRejected(_ json: String) {
        let error = #expect(throws: DomainError.self) { try decode(PlanContext.self, json) }
        #expect(error?.code == .invalidValue)
    }

    @Test func unknownWordsNameAllowedWords() {
        let mode = #expect(throws: DomainError.self) { try decode(RiskContext.self, #"{"risk_mode":"PANIC"}"#) }
        #expect(mode?.code == .unknownWord)
        #expect(mode?.message.contains("NORMAL, CONSERVATIVE, CRITICAL, ESS_ACTIVE") == true)
        let regime = #expect(throws: DomainError.self) { try decode(MarketData.self, #"{"regime":"CHOPPY"}"#) }
        #expect(regime?.code == .unknownWord)
    }

    @Test func wrongTypeIsReadable() {
        let error = #expect(throws: DomainError.self) { try decode(RLHints.self, #"{"confidence":"high"}"#) }
        #expect(error?.code == .invalidJSON)
        #expect(error?.message.contains("confidence") == true)
    }

    @Test func constructedHintsAreValidatedByThePlanner() {
        let nan = Fixture.input(context: PlanContext(rlHints: RLHints(tpTargetPct: .nan)))
        #expect(throws: DomainError.self) { try Planner().makePlan(nan) }
        let percent = Fixture.input(context: PlanContext(rlHints: RLHints(slTargetPct: 2.5)))
        let error = #expect(throws: DomainError.self) { try Planner().makePlan(percent) }
        #expect(error?.code == .fractionExpected)
    }

    @Test(arguments: [
        (Double.nan, 0.01, 10.0), (-50_000, 0.01, 10), (0, 0.01, 10), (.infinity, 0.01, 10),
        (50_000, .nan, 10), (50_000, -0.01, 10), (50_000, 0, 10), (50_000, 0.000000001, 10),
        (50_000, 0.01, .nan), (50_000, 0.01, 0), (50_000, 0.01, -5),
    ])
    func badPlannerNumbersAreRejected(_ entry: Double, _ quantity: Double, _ leverage: Double) {
        let error = #expect(throws: DomainError.self) {
            try Planner().makePlan(Fixture.input(entry: entry, quantity: quantity, leverage: leverage))
        }
        #expect(error?.code == .invalidValue)
    }

    @Test func badMarkPriceSymbolAndPlanIdAreRejected() {
        #expect(throws: DomainError.self) { try Planner().makePlan(Fixture.input(mark: .nan)) }
        #expect(throws: DomainError.self) { try Planner().makePlan(Fixture.input(mark: -1)) }
        #expect(throws: DomainError.self) { try Planner().makePlan(Fixture.input(symbol: "")) }
        var input = Fixture.input()
        input.planId = "--"
        #expect(throws: DomainError.self) { try Planner().makePlan(input) }
    }

    @Test func errorDescriptionCarriesCode() {
        #expect(DomainError(.unknownKey, "x").description == "UNKNOWN_KEY: x")
    }
}

@Suite struct PositionSnapshotTests {
    func decode(_ json: String) throws(DomainError) -> PositionSnapshot {
        try PlanJSON.decodeValue(PositionSnapshot.self, from: Array(json.utf8))
    }

    @Test func contractFormRoundTrips() throws {
        let json =
            #"{"symbol":"BTCUSDT","side":"LONG","quantity":0.01,"entry_price":50000.0,"mark_price":50500.0,"leverage":10.0,"unrealized_pnl":5.0,"opened_at":"2026-11-25T18:38:24.123Z","updated_at":"2026-11-25T18:40:00.000Z"}"#
        let snapshot = try decode(json)
        #expect(snapshot.key == PositionKey(symbol: "BTCUSDT", side: .long))
        #expect(snapshot.openedAt == Fixture.t0)
        #expect(String(decoding: try PlanJSON.encodeValue(snapshot), as: UTF8.self) == json)
    }

    @Test func seedStyleNegativeAmountIsShort() throws {
        let snapshot = try decode(#"{"symbol":"ETHUSDT","positionAmt":"-0.500","entryPrice":"3000.5","markPrice":"2990.5","isolated":false}"#)
        #expect(snapshot.side == .short)
        #expect(snapshot.quantity == 0.5)
        #expect(snapshot.entryPrice == 3000.5)
        #expect(snapshot.markPrice == 2990.5)
        #expect(snapshot.leverage == 1)
        #expect(close(snapshot.unrealizedPnl, 5))
        #expect(snapshot.openedAt == nil)
    }

    @Test func seedStylePositiveAmountIsLong() throws {
        let snapshot = try decode(#"{"symbol":"BTCUSDT","positionAmt":0.01,"entryPrice":50000,"leverage":20}"#)
        #expect(snapshot.side == .long)
        #expect(snapshot.quantity == 0.01)
        #expect(snapshot.markPrice == 50_000)
        #expect(snapshot.leverage == 20)
    }

    @Test(arguments: [
        (#"{"symbol":"BTCUSDT","side":"FLAT","quantity":1,"entry_price":1}"#, DomainError.Code.unknownWord),
        (#"{"symbol":"BTCUSDT","positionAmt":0,"entryPrice":1}"#, .missingField),
        (#"{"symbol":"BTCUSDT","side":"LONG","quantity":-1,"entry_price":1}"#, .invalidValue),
        (#"{"symbol":"BTCUSDT","side":"LONG","quantity":1,"entry_price":0}"#, .invalidValue),
        (#"{"symbol":"BTCUSDT","positionAmt":"NaN","entryPrice":1}"#, .missingField),
        (#"{"symbol":"BTCUSDT","side":"LONG","quantity":"NaN","entry_price":1}"#, .invalidValue),
        (#"{"symbol":"BTCUSDT","side":"SHORT","positionAmt":0.5,"entry_price":1}"#, .invalidValue),
        (#"{"side":"LONG","quantity":1,"entry_price":1}"#, .missingField),
        (#"{"symbol":"BTCUSDT","side":"LONG","quantity":1}"#, .missingField),
        (#"{"symbol":"BTCUSDT","side":"LONG","quantity":1,"entry_price":1,"opened_at":"yesterday"}"#, .invalidValue),
        (#"not json"#, .invalidJSON),
    ])
    func badSnapshotsAreRejected(_ json: String, _ code: DomainError.Code) {
        let error = #expect(throws: DomainError.self) { try decode(json) }
        #expect(error?.code == code, "\(json): \(String(describing: error))")
    }
}

@Suite struct VocabularyTests {
    @Test func sides() {
        #expect(PositionSide.long.exitOrderSide == .sell)
        #expect(PositionSide.short.exitOrderSide == .buy)
        #expect(PositionSide.long.sign == 1)
        #expect(PositionSide.short.sign == -1)
        #expect(OrderSide.buy.positionSide == .long)
        #expect(OrderSide.sell.positionSide == .short)
    }

    @Test func positionKey() {
        let key = PositionKey(symbol: "BTCUSDT", side: .long)
        #expect(key.description == "BTCUSDT:LONG")
        #expect(PositionKey("BTCUSDT:LONG") == key)
        #expect(PositionKey("ETHUSDT:SHORT") == PositionKey(symbol: "ETHUSDT", side: .short))
        #expect(PositionKey("BTCUSDT:FLAT") == nil)
        #expect(PositionKey("BTCUSDT:long") == nil)
        #expect(PositionKey(":LONG") == nil)
        #expect(PositionKey("BTCUSDT") == nil)
        #expect(PositionKey(symbol: "BTCUSDT", side: .long) != PositionKey(symbol: "BTCUSDT", side: .short))
    }

    @Test func wordsAreTheJSONWords() {
        #expect(LegKind.allCases.map(\.rawValue) == ["TP", "SL", "TRAIL", "EMERGENCY"])
        #expect(LegStatus.allCases.map(\.rawValue) == ["PENDING", "FILLED", "CANCELLED"])
        #expect(PlanStatus.allCases.map(\.rawValue) == ["ACTIVE", "CLOSED"])
        #expect(ClosedReason.allCases.map(\.rawValue) == ["STOP_LOSS", "TAKE_PROFIT", "TRAILING_STOP", "TIME_STOP", "EMERGENCY", "POSITION_CLOSED"])
        #expect(PlanSource.allCases.map(\.rawValue) == ["EXECUTION", "RETROACTIVE"])
        #expect(ExitProfile.allCases.map(\.rawValue) == ["DEFAULT", "CHALLENGE_100"])
        #expect(StrategyID.allCases.map(\.rawValue) == ["STANDARD_LADDER", "PROFIT_LOCK", "EMERGENCY_EXIT", "CHALLENGE_100"])
        #expect(RiskMode.allCases.map(\.rawValue) == ["NORMAL", "CONSERVATIVE", "CRITICAL", "ESS_ACTIVE"])
        #expect(MarketRegime.allCases.map(\.rawValue) == ["NORMAL", "VOLATILE", "TRENDING", "RANGE_BOUND"])
        #expect(PlanChange.allCases.map(\.rawValue) == ["LEG_FILLED", "SL_MOVED", "TRAIL_ACTIVATED", "TRAIL_MOVED"])
    }

    @Test func clientOrderIds() {
        #expect(ClientOrderID.make(planId: Fixture.planId, legIndex: 3, version: 2) == "eb-6f1c2a9e4b7d4e8a9c3f-3-2")
        #expect(ClientOrderID.make(planId: "6F1C2A9E-4B7D", legIndex: 0, version: 1) == "eb-6f1c2a9e4b7d-0-1")
        let huge = ClientOrderID.make(planId: Fixture.planId, legIndex: 12, version: Int.max)
        #expect(huge.utf8.count <= 36)
        #expect(ClientOrderID.isValid(huge))
        #expect(!ClientOrderID.isValid("eb-has space"))
        #expect(!ClientOrderID.isValid(String(repeating: "a", count: 37)))
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00.000Z", Int64(0)),
        ("2026-11-25T18:38:24.123Z", 1_795_631_904_123),
        ("2028-02-29T23:59:59.999Z", 1_835_481_599_999),
        ("1969-12-31T23:59:59.999Z", -1),
        ("2000-03-01T00:00:00.000Z", 951_868_800_000),
    ])
    func formatAndParse(_ text: String, _ ms: Int64) throws {
        let date = Timestamp.date(milliseconds: ms)
        #expect(Timestamp.format(date) == text)
        #expect(Timestamp.parse(text) == date)
        #expect(Timestamp.milliseconds(date) == ms)
    }

    @Test func parseAcceptsOffsetsAndOtherFractions() {
        let base = Timestamp.parse("2026-11-25T18:38:24.123Z")
        #expect(Timestamp.parse("2026-11-25T19:38:24.123+01:00") == base)
        #expect(Timestamp.parse("2026-11-25T13:38:24.123-0500") == base)
        #expect(Timestamp.parse("2026-11-25T18:38:24.123456Z") == base)
        #expect(Timestamp.parse("2026-11-25T18:38:24Z") == Timestamp.parse("2026-11-25T18:38:24.000Z"))
        #expect(Timestamp.parse("2026-11-25T18:38:24.1Z") == Timestamp.parse("2026-11-25T18:38:24.100Z"))
    }

    @Test(arguments: [
        "", "2026-11-25", "2026-11-25T18:38:24.123", "2026-13-01T00:00:00Z", "2027-02-29T00:00:00Z",
        "2026-11-25T24:00:00Z", "2026-11-25T18:38:24.Z", "2026-11-25T18:38:24.123Zjunk", "yesterday",
    ])
    func parseRejects(_ text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test func normalizeRoundsToMilliseconds() {
        let date = Date(timeIntervalSince1970: 1_795_631_904.123_4)
        #expect(Timestamp.format(date) == "2026-11-25T18:38:24.123Z")
        #expect(Timestamp.normalize(date) == Timestamp.parse("2026-11-25T18:38:24.123Z"))
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let date = Timestamp.normalize(Date(timeIntervalSince1970: rng.double(in: -1e9...4e9)))
            #expect(Timestamp.parse(Timestamp.format(date)) == date)
        }
    }
}
