import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient
import Support
import Testing

/// Malformed messages and the reason each must be rejected with.
enum Corpus {
    static func envelope(_ type: String = "trade.signal", data: String) -> String {
        #"{"id":"x1","type":"\#(type)","source":"test","ts":"2026-11-25T10:00:00.000Z","data":\#(data)}"#
    }

    static let goodSignal = envelope(data: #"{"symbol":"BTCUSDT","side":"BUY","quantity":0.01,"leverage":10,"price":50000}"#)
    static let goodTick = envelope("market.tick", data: #"{"symbol":"BTCUSDT","price":50000.5}"#)

    /// (channel type, payload, expected reason).
    static var signals: [(EventType, [UInt8], RejectionReason)] {
        var out: [(EventType, [UInt8], RejectionReason)] = []
        func add(_ s: String, _ r: RejectionReason) { out.append((.tradeSignal, Array(s.utf8), r)) }
        func addT(_ t: EventType, _ s: String, _ r: RejectionReason) { out.append((t, Array(s.utf8), r)) }
        // Not JSON.
        for s in ["", "not json", "{", "[1,2", "{\"id\":", "nul", "{'single':'quotes'}", "\u{0}\u{1}", #"{"a":NaN}"#, String(goodSignal.dropLast(3))]
        {
            add(s, .invalidJSON)
        }
        out.append((.tradeSignal, [0xFF, 0xFE, 0x7B], .invalidJSON))
        // Not an envelope.
        for s in [
            "[]", "42", "\"text\"", "{}", #"{"type":"trade.signal"}"#, #"{"id":"1","type":"trade.signal","source":"x","ts":"t"}"#,
            #"{"id":1,"type":"trade.signal","source":"x","ts":"t","data":{}}"#, #"{"id":"1","type":"trade.signal","source":"x","ts":"t","data":[]}"#,
            #"{"id":"1","type":"trade.signal","source":"x","ts":"t","data":"s"}"#,
        ] {
            add(s, .invalidEnvelope)
        }
        // Wrong envelope type for the channel.
        add(envelope("market.tick", data: "{}"), .wrongEventType)
        add(envelope("alert", data: "{}"), .wrongEventType)
        addT(.marketTick, envelope("trade.signal", data: #"{"symbol":"BTCUSDT","price":1}"#), .wrongEventType)
        // Missing fields.
        for d in [
            #"{"side":"BUY","quantity":1,"leverage":1}"#, #"{"symbol":"BTCUSDT","quantity":1,"leverage":1}"#,
            #"{"symbol":"BTCUSDT","side":"BUY","leverage":1}"#, #"{"symbol":"BTCUSDT","side":"BUY","quantity":1}"#,
        ] {
            add(envelope(data: d), .missingField)
        }
        addT(.marketTick, envelope("market.tick", data: #"{"symbol":"BTCUSDT"}"#), .missingField)
        addT(.marketTick, envelope("market.tick", data: #"{"price":1}"#), .missingField)
        // Wrong types.
        for d in [
            #"{"symbol":1,"side":"BUY","quantity":1,"leverage":1}"#, #"{"symbol":"BTCUSDT","side":"BUY","quantity":"1","leverage":1}"#,
            #"{"symbol":"BTCUSDT","side":"BUY","quantity":1,"leverage":true}"#, #"{"symbol":"BTCUSDT","side":2,"quantity":1,"leverage":1}"#,
            #"{"symbol":"BTCUSDT","side":"BUY","quantity":null,"leverage":1}"#,
            #"{"symbol":"BTCUSDT","side":"BUY","quantity":1,"leverage":1,"rl_hints":{"confidence":"high"}}"#,
        ] {
            add(envelope(data: d), .wrongType)
        }
        addT(.marketTick, envelope("market.tick", data: #"{"symbol":"BTCUSDT","price":"50000"}"#), .wrongType)
        // Bad numbers.
        for q in ["0", "-1", "-0.01", "1e308", "1e10"] {
            add(envelope(data: #"{"symbol":"BTCUSDT","side":"BUY","quantity":\#(q),"leverage":1}"#), .invalidNumber)
        }
        for l in ["0", "-5", "500"] {
            add(envelope(data: #"{"symbol":"BTCUSDT","side":"BUY","quantity":1,"leverage":\#(l)}"#), .invalidNumber)
        }
        add(envelope(data: #"{"symbol":"BTCUSDT","side":"BUY","quantity":1,"leverage":1,"price":-3}"#), .invalidNumber)
        for p in ["0", "-1", "1e300"] {
            addT(.marketTick, envelope("market.tick", data: #"{"symbol":"BTCUSDT","price":\#(p)}"#), .invalidNumber)
        }
        // Unknown sides.
        for s in ["LONGISH", "HOLD", "", "B"] {
            add(envelope(data: #"{"symbol":"BTCUSDT","side":"\#(s)","quantity":1,"leverage":1}"#), .unknownSide)
        }
        // Fractions expected.
        for h in [#"{"tp_target_pct":1.5}"#, #"{"sl_target_pct":2}"#, #"{"trail_callback_pct":1}"#] {
            add(envelope(data: #"{"symbol":"BTCUSDT","side":"BUY","quantity":1,"leverage":1,"rl_hints":\#(h)}"#), .fractionExpected)
        }
        add(envelope(data: #"{"symbol":"BTCUSDT","side":"BUY","quantity":1,"leverage":1,"risk_context":{"max_loss_pct":3}}"#), .fractionExpected)
        // Unknown keys (the old system's silently ignored hints).
        add(envelope(data: #"{"symbol":"BTCUSDT","side":"BUY","quantity":1,"leverage":1,"rl_hints":{"tp_pct":0.02}}"#), .unknownKey)
        add(envelope(data: #"{"symbol":"BTCUSDT","side":"BUY","quantity":1,"leverage":1,"qty":1}"#), .unknownKey)
        add(envelope(data: #"{"symbol":"BTCUSDT","side":"BUY","quantity":1,"leverage":1,"market_data":{"vol":0.02}}"#), .unknownKey)
        addT(.marketTick, envelope("market.tick", data: #"{"symbol":"BTCUSDT","price":1,"bid":1}"#), .unknownKey)
        // Invalid values.
        add(envelope(data: #"{"symbol":"btc/usdt","side":"BUY","quantity":1,"leverage":1}"#), .invalidValue)
        add(envelope(data: #"{"symbol":"BTCUSDT:LONG","side":"BUY","quantity":1,"leverage":1}"#), .invalidValue)
        add(envelope(data: #"{"symbol":"BTCUSDT","side":"BUY","quantity":1,"leverage":1,"action":"FLIP"}"#), .invalidValue)
        add(envelope(data: #"{"symbol":"BTCUSDT","side":"BUY","quantity":1,"leverage":1,"rl_hints":{"confidence":1.5}}"#), .invalidValue)
        add(envelope(data: #"{"symbol":"BTCUSDT","side":"BUY","quantity":1,"leverage":1,"risk_context":{"risk_mode":"YOLO"}}"#), .invalidValue)
        // Too large (100 KiB).
        add(
            envelope(
                data: #"{"symbol":"BTCUSDT","side":"BUY","quantity":1,"leverage":1,"pad":""# + String(repeating: "x", count: 100 * 1024) + #""}"#),
            .tooLarge)
        return out
    }
}

@Suite("Inbound validation")
struct InboundValidationTests {
    @Test func corpusHasAtLeastFiftyCases() {
        #expect(Corpus.signals.count >= 50)
    }

    @Test func everyMalformedMessageIsRejectedWithItsReason() {
        for (type, payload, reason) in Corpus.signals {
            let result = InboundEvent.decode(type: type, payload: payload)
            switch result {
            case .success(let e):
                Issue.record("accepted \(String(decoding: payload.prefix(120), as: UTF8.self)) as \(e)")
            case .failure(let r):
                #expect(r.reason == reason, "\(String(decoding: payload.prefix(160), as: UTF8.self)) → \(r)")
            }
        }
    }

    @Test func goodMessagesPass() throws {
        guard case .success(.signal(let s, let meta)) = InboundEvent.decode(type: .tradeSignal, payload: Array(Corpus.goodSignal.utf8)) else {
            Issue.record("good signal refused")
            return
        }
        #expect(s.symbol == "BTCUSDT" && s.side == .buy && s.quantity == 0.01 && s.price == 50_000 && s.action == .open)
        #expect(meta.source == "test")
        let withHints = Corpus.envelope(
            data:
                #"{"symbol":"ethusdt","side":"sell","quantity":2,"leverage":5,"action":"CLOSE","rl_hints":{"tp_target_pct":0.04,"confidence":0.9},"risk_context":{"risk_mode":"CONSERVATIVE"},"market_data":{"volatility":0.03,"regime":"TRENDING"}}"#
        )
        guard case .success(.signal(let h, _)) = InboundEvent.decode(type: .tradeSignal, payload: Array(withHints.utf8)) else {
            Issue.record("signal with hints refused")
            return
        }
        #expect(h.symbol == "ETHUSDT" && h.side == .sell && h.action == .close)
        #expect(h.context.rlHints?.tpTargetPct == 0.04)
        #expect(h.context.marketData?.regime == .trending)
    }
}

@Suite("Event subscription on real Redis", .enabled(if: TestRedis.enabled))
struct EventSubscriptionTests {
    @Test func rejectsCountsAnswersAndKeepsDelivering() async throws {
        let f = try await CoordinationFixture(label: "sub")
        let sub = EventSubscription(
            configuration: f.config, namespace: f.namespace, types: [.tradeSignal, .marketTick],
            pingChannel: f.namespace.ping(service: "t", instance: "1"), bus: f.bus, logger: testLogger)
        sub.start()
        #expect(await sub.subscriber.waitUntilSubscribed())
        let answers = await Listener(config: f.config, pattern: f.namespace.channel(.eventRejected))
        let corpus = Corpus.signals
        var commands: [RedisCommand] = []
        for (i, (type, payload, _)) in corpus.enumerated() {
            commands.append(RedisCommand(["PUBLISH", f.namespace.channel(type), payload]))
            if i % 10 == 0 { commands.append(RedisCommand(["PUBLISH", f.namespace.channel(.tradeSignal), Corpus.goodSignal])) }
        }
        commands.append(RedisCommand(["PUBLISH", f.namespace.channel(.marketTick), Corpus.goodTick]))
        _ = try await f.redis.pipeline(commands)
        let goodCount = corpus.indices.filter { $0 % 10 == 0 }.count + 1
        var received: [InboundEvent] = []
        for await e in sub.events {
            received.append(e)
            if received.count == goodCount { break }
        }
        #expect(received.count == goodCount)
        if case .tick(let t, _)? = received.last { #expect(t.price == 50_000.5) } else { Issue.record("tick not last") }
        let replies = await answers.collect(count: corpus.count)
        #expect(replies.count == corpus.count, "one event.rejected per bad message")
        var expected: [String: Int] = [:]
        for (_, _, r) in corpus { expected[r.rawValue, default: 0] += 1 }
        #expect(sub.rejectedCounts == expected)
        let first = String(decoding: replies.first?.payload ?? [], as: UTF8.self)
        #expect(first.contains("\"type\":\"event.rejected\"") && first.contains("\"reason\":\"invalid_json\""))
        sub.close()
        await f.cleanup()
    }

    @Test func roundTripOnOwnPingChannel() async throws {
        let f = try await CoordinationFixture(label: "ping")
        let sub = EventSubscription(
            configuration: f.config, namespace: f.namespace, types: [.tradeSignal],
            pingChannel: f.namespace.ping(service: "t", instance: "2"), bus: f.bus, logger: testLogger)
        sub.start()
        #expect(await sub.subscriber.waitUntilSubscribed())
        let rt = await sub.roundTrip(timeout: .seconds(10))
        #expect(rt != nil, "the ping came back through our own subscriber")
        sub.close()
    }
}
