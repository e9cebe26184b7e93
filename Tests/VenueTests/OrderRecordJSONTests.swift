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

    @Test func theFastScanReadsWhatTheDecoderReads() throws {
        let t = Date(timeIntervalSince1970: 1_780_000_000)
        var records = [OrderLifecycleTests.record(.intent)]
        records.append(try OrderLifecycle.apply(.accepted(venueOrderId: "8389765", venueAlgoId: "2146760"), to: records[0], at: t))
        records.append(
            try OrderLifecycle.apply(
                .filled(cumulative: Decimal(string: "0.004")!, averagePrice: Decimal(string: "48749.9")!, venueOrderId: "77"), to: records[1], at: t))
        records.append(try OrderLifecycle.apply(.rejected(code: -2021, message: "Order would immediately trigger."), to: records[0], at: t))
        var odd = records[3]
        odd.error = "the venue said \"no\" — ünïcode, a tab\t and a newline\n"
        odd.legIndex = nil
        odd.planId = nil
        records.append(odd)
        for record in records {
            let bytes = try PlanJSON.encodeValue(record)
            #expect(record.jsonBytes() == bytes, "the direct writer and Codable agree: \(String(decoding: record.jsonBytes(), as: UTF8.self))")
            let decoded = try PlanJSON.decodeValue(OrderRecord.self, from: bytes)
            #expect(decoded == record)
            if let fast = OrderRecord.fastDecode(bytes) { #expect(fast == decoded) } else { #expect(record.error?.contains("\"") == true) }
        }
        // What it does not expect is left to the decoder: an escape, an unknown field, a bad number.
        let escaped = String(decoding: try PlanJSON.encodeValue(records[3]), as: UTF8.self).replacingOccurrences(
            of: "Order would", with: #"Order \"would\""#)
        #expect(OrderRecord.fastDecode(Array(escaped.utf8)) == nil)
        #expect((try PlanJSON.decodeValue(OrderRecord.self, from: Array(escaped.utf8))).error?.contains(#""would""#) == true)
        let extra = String(decoding: try PlanJSON.encodeValue(records[0]), as: UTF8.self).replacingOccurrences(of: #""key":"#, with: #""x":1,"key":"#)
        #expect(OrderRecord.fastDecode(Array(extra.utf8)) == nil)
        let exponent = String(decoding: try PlanJSON.encodeValue(records[0]), as: UTF8.self).replacingOccurrences(
            of: #""quantity":"0.01""#, with: #""quantity":"1e-2""#)
        #expect(OrderRecord.fastDecode(Array(exponent.utf8)) == nil)
    }

    @Test func plainDecimalTextIsReadExactly() {
        #expect(Decimal(plainText: "48750.10") == Decimal(string: "48750.1"))
        #expect(Decimal(plainText: "-0.003") == Decimal(string: "-0.003"))
        #expect(Decimal(plainText: "7") == 7)
        for bad in ["", ".5", "1.2.3", "1e3", " 1", "--1", "12345678901234567890", "1,5"] { #expect(Decimal(plainText: bad) == nil, "\(bad)") }
        #expect(Decimal(rounding: 0.003) == Decimal(string: "0.003"))
        #expect(Decimal(rounding: 50_975.00000000001) == Decimal(string: "50975"))
        #expect(Decimal(rounding: -48_750.5) == Decimal(string: "-48750.5"))
    }
}
