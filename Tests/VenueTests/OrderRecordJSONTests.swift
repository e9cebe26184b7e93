import ExitBrainDomain
import Foundation
import Testing
import Venue

/// The order record reads in `redis-cli` as the contract shows it, and reads back the same.
@Suite struct OrderRecordJSONTests {
    @Test func theContractsFieldOrderWithDecimalStrings() throws {
        let t = Date(timeIntervalSince1970: 1_780_000_000)
        var record = OrderLifecycleTests.record(.intent)
        record = try OrderLifecycle.apply(.accepted(venueOrderId: "8389765", venueAlgoId: "2146760"), to: record, at: t)
        let text = String(decoding: try PlanJSON.encodeValue(record), as: UTF8.self)
        let keys = [
            "client_order_id", "key", "plan_id", "leg_index", "purpose", "type", "side", "position_side", "quantity", "trigger_price",
            "status", "venue_order_id", "venue_algo_id", "filled_quantity", "avg_price", "error", "created_at", "updated_at",
        ]
        var at = text.startIndex
        for key in keys {
            let found = try #require(text.range(of: "\"\(key)\":", range: at..<text.endIndex), "\(key) missing or out of order in \(text)")
            at = found.upperBound
        }
        #expect(text.contains(#""quantity":"0.01","trigger_price":"48750","status":"NEW""#), "\(text)")
        #expect(text.contains(#""avg_price":null,"error":null"#), "\(text)")
        let back = try PlanJSON.decodeValue(OrderRecord.self, from: Array(text.utf8))
        #expect(back == record)
    }

    @Test func aRecordWithANonDecimalQuantityIsRefused() {
        let bad =
            #"{"client_order_id":"x","key":"BTCUSDT:LONG","plan_id":null,"leg_index":null,"purpose":"ENTRY","type":"MARKET","side":"BUY","position_side":"LONG","quantity":"1e999x","trigger_price":null,"status":"NEW","venue_order_id":null,"venue_algo_id":null,"filled_quantity":"0","avg_price":null,"error":null,"created_at":"2026-12-01T10:00:00.000Z","updated_at":"2026-12-01T10:00:00.000Z"}"#
        #expect(throws: DomainError.self) { try PlanJSON.decodeValue(OrderRecord.self, from: Array(bad.utf8)) }
    }
}
