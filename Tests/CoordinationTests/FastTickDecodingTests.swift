import ExitBrainDomain
import Foundation
import Testing

@testable import ExitBrainCoordination

/// The fast reading of `market.tick` is held to the Codable one: what it takes, the Codable way
/// takes with the same values; what it leaves, `InboundEvent.decode` answers the Codable way.
@Suite struct FastTickDecodingTests {
    static func payload(_ members: [(String, String)]) -> [UInt8] {
        Array(("{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}").utf8)
    }

    @Test func whatItTakesTheCodableWayTakesWithTheSameValues() throws {
        var rng = SplitMix64(seed: 7)
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        for n in 0..<2_000 {
            let symbol = String((0..<(1 + Int(rng.next() % 32))).map { _ in letters[Int(rng.next() % UInt64(letters.count))] })
            let value = Double(rng.next() % 1_000_000_000) / pow(10, Double(rng.next() % 9)) + 1e-9
            let price =
                switch n % 4 {
                case 0: "\(value)"
                case 1: String(format: "%.3e", value)
                case 2: "\(Int(value.rounded()) + 1)"
                default: String(format: "%.12g", value)
                }
            var data = [("symbol", "\"\(symbol)\""), ("price", price)]
            if rng.next() % 2 == 0 { data.reverse() }
            var envelope = [
                ("id", "\"\(n)\""), ("type", "\"market.tick\""), ("source", "\"bench\""), ("ts", "\"2026-12-03T10:00:00.000Z\""),
                ("data", String(decoding: Self.payload(data), as: UTF8.self)),
            ]
            envelope.shuffle(using: &rng)
            var bytes = Self.payload(envelope)
            if n % 5 == 0 { bytes = Array(" \n".utf8) + bytes + Array("\t ".utf8) }
            let fast = try #require(FastTickDecoding.decode(bytes), "\(String(decoding: bytes, as: UTF8.self))")
            #expect(InboundEvent.decodeWithCodable(type: .marketTick, payload: bytes) == .success(.tick(fast.0, fast.1)))
        }
    }

    @Test func whatItLeavesIsAnsweredTheCodableWay() {
        let envelope = { (data: String) in Corpus.envelope("market.tick", data: data) }
        var left = Corpus.signals.filter { $0.0 == .marketTick }.map { String(decoding: $0.1, as: UTF8.self) }
        left += [
            envelope(#"{"symbol":"BTCUSDT","price":1,"price":2}"#),  // a key twice
            #"{"id":"1","type":"market.tick","source":"x","ts":"t","data":{"symbol":"BTCUSDT","price":1},"extra":1}"#,
            envelope(#"{"symbol":"BTC\u0055SDT","price":1}"#),  // an escape
            envelope(#"{"symbol":"BTCÜSDT","price":1}"#),
            envelope(#"{"symbol":"BTCUSDT","price":1.0000001e12}"#),
            envelope(#"{"symbol":"BTCUSDT","price":-0}"#),
            envelope(#"{"symbol":"BTCUSDT","price":0}"#),
            envelope(#"{"symbol":"BTCUSDT","price":1e400}"#),
            envelope(#"{"symbol":"BTC-USDT","price":1}"#),
            envelope(#"{"symbol":"\#(String(repeating: "A", count: 33))","price":1}"#),
            envelope(#"{"symbol":"BTCUSDT","price":01}"#),
            envelope(#"{"symbol":"BTCUSDT","price":1}"#) + "x",
            Corpus.envelope("trade.signal", data: #"{"symbol":"BTCUSDT","price":1}"#),
        ]
        for text in left {
            let bytes = Array(text.utf8)
            #expect(FastTickDecoding.decode(bytes) == nil, "\(text)")
            #expect(InboundEvent.decode(type: .marketTick, payload: bytes) == InboundEvent.decodeWithCodable(type: .marketTick, payload: bytes))
        }
        #expect(left.count > 20)
    }

    @Test func theEdgesItTakes() throws {
        let top = try #require(FastTickDecoding.decode(Array(Corpus.envelope("market.tick", data: #"{"symbol":"btcusdt","price":1e12}"#).utf8)))
        #expect(top.0 == MarketTick(symbol: "BTCUSDT", price: 1e12), "the highest price, the symbol upper-cased")
        let meta = try #require(FastTickDecoding.decode(Array(Corpus.goodTick.utf8))).1
        #expect(meta == EnvelopeMeta(id: "x1", type: "market.tick", source: "test", ts: "2026-11-25T10:00:00.000Z"))
    }
}
