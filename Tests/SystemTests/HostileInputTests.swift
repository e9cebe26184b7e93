import ExitBrainCoordination
import Foundation
import RedisClient
import Support
import Testing

/// Generated bad messages for every inbound channel. Each is something the strict decoder
/// must refuse; `seed` varies symbols and numbers.
enum HostileCorpus {
    static func signals(count: Int, seed: Int) -> [[UInt8]] {
        (0..<count).map { i in message(kind: (i + seed) % 16, n: i + seed, type: "trade.signal") }
    }

    static func ticks(count: Int, seed: Int) -> [[UInt8]] {
        (0..<count).map { i in message(kind: (i + seed) % 16, n: i + seed, type: "market.tick") }
    }

    static func heartbeats(count: Int, seed: Int) -> [[UInt8]] {
        (0..<count).map { i in message(kind: (i + seed) % 16, n: i + seed, type: "service.heartbeat") }
    }

    static func envelope(_ type: String, _ data: String, id: Int) -> String {
        #"{"id":"bad-\#(id)","type":"\#(type)","source":"hostile","ts":"2026-11-25T18:38:24.123Z","data":\#(data)}"#
    }

    static func goodData(_ type: String, n: Int) -> String {
        switch type {
        case "trade.signal": #"{"symbol":"BAD\#(n)USDT","side":"BUY","quantity":0.01,"leverage":10,"price":100}"#
        case "market.tick": #"{"symbol":"BAD\#(n)USDT","price":100}"#
        default: #"{"service":"execution-service","instance":"x","status":"OK","version":"1"}"#
        }
    }

    /// One bad message of the given kind (0..<16) for `type`.
    static func message(kind: Int, n: Int, type: String) -> [UInt8] {
        let good = envelope(type, goodData(type, n: n), id: n)
        let numberField = type == "market.tick" ? "price" : type == "trade.signal" ? "quantity" : "status"
        let text: String
        switch kind {
        case 0: text = String(good.prefix(max(1, good.count - 1 - n % 40)))  // truncated
        case 1: text = ["hello", "{", "[1,2", "", "null", "42", "\"x\""][n % 7]
        case 2:
            text =
                type == "service.heartbeat"
                ? good.replacingOccurrences(of: "\"service\":\"execution-service\"", with: "\"service\":\(n)")
                : good.replacingOccurrences(of: #""symbol":"BAD\#(n)USDT""#, with: #""symbol":\#(n)"#)  // wrong type
        case 3:
            text =
                type == "service.heartbeat"
                ? good.replacingOccurrences(of: "\"status\":\"OK\"", with: "\"status\":NaN")
                : good.replacingOccurrences(of: type == "market.tick" ? "\"price\":100" : "\"quantity\":0.01", with: "\"\(numberField)\":NaN")
        case 4:
            text =
                type == "service.heartbeat"
                ? good.replacingOccurrences(of: "\"service\":\"execution-service\"", with: "\"service\":Infinity")
                : good.replacingOccurrences(of: type == "market.tick" ? "\"price\":100" : "\"quantity\":0.01", with: "\"\(numberField)\":1e308")
        case 5:
            text =
                type == "service.heartbeat"
                ? good.replacingOccurrences(of: "\"instance\":\"x\",", with: "")
                : good.replacingOccurrences(of: type == "market.tick" ? "\"price\":100" : "\"quantity\":0.01", with: "\"\(numberField)\":0")
        case 6:
            text =
                type == "service.heartbeat"
                ? good.replacingOccurrences(of: "\"service\":\"execution-service\",", with: "")
                : good.replacingOccurrences(
                    of: type == "market.tick" ? "\"price\":100" : "\"quantity\":0.01", with: "\"\(numberField)\":-\(n % 100 + 1)")
        case 7:
            text =
                type == "trade.signal"
                ? good.replacingOccurrences(of: "\"side\":\"BUY\"", with: "\"side\":\"HOLD\"")
                : type == "market.tick"
                    ? good.replacingOccurrences(of: "\"symbol\":\"BAD", with: "\"symbol\":\"B D")
                    : good.replacingOccurrences(of: "\"version\":\"1\"", with: "\"version\":[1]")
        case 8:
            text =
                type == "trade.signal"
                ? good.replacingOccurrences(of: "\"price\":100}", with: #""price":100,"context":{"rl_hints":{"tp_pct":0.02}}}"#)
                : good.replacingOccurrences(of: "\"type\":\"\(type)\"", with: "\"type\":\"alert\"")
        case 9:
            text =
                type == "trade.signal"
                ? good.replacingOccurrences(of: "\"price\":100}", with: #""price":100,"context":{"rl_hints":{"tp_target_pct":1.5}}}"#)
                : good.replacingOccurrences(of: "\"type\":\"\(type)\"", with: "\"type\":\"\(type)x\"")
        case 10: text = good.replacingOccurrences(of: "\"type\":\"\(type)\"", with: "\"type\":\"exit_plan.created\"")  // wrong envelope type
        case 11: text = envelope(type, "[]", id: n)
        case 12: text = good.replacingOccurrences(of: ",\"data\":", with: ",\"payload\":")  // no data
        case 13: text = good.replacingOccurrences(of: "\"id\":\"bad-\(n)\",", with: "")  // no id
        case 14:  // over 64 KiB (a 1 MiB body one time in eight)
            text = good.replacingOccurrences(
                of: "\"source\":\"hostile\"", with: "\"source\":\"" + String(repeating: "x", count: n % 8 == 0 ? 1 << 20 : 70_000) + "\"")
        default:  // invalid UTF-8 in a string
            var bytes = Array(good.utf8)
            if let r = good.range(of: "BAD") ?? good.range(of: "execution") {
                let at = good.utf8.distance(from: good.startIndex, to: r.lowerBound)
                bytes.replaceSubrange(at..<(at + 3), with: [0xFF, 0xFE, 0xC3])
            }
            return bytes
        }
        return Array(text.utf8)
    }
}

@Suite("Hostile input", .serialized, .enabled(if: TestRedis.isCI || TestProcess.find("redis-server") != nil, "needs redis-server"))
struct HostileInputTests {
    static let perChannel = Int(ProcessInfo.processInfo.environment["EXITBRAIN_HOSTILE_PER_CHANNEL"] ?? "") ?? 10_000

    /// The corpus is bad through and through: the decoder refuses every message of it.
    @Test func everyGeneratedMessageIsRefusedByTheDecoder() {
        for (type, messages) in [
            (EventType.tradeSignal, HostileCorpus.signals(count: 320, seed: 1)),
            (.marketTick, HostileCorpus.ticks(count: 320, seed: 2)),
            (.heartbeat, HostileCorpus.heartbeats(count: 320, seed: 3)),
        ] {
            for (i, m) in messages.enumerated() {
                if case .success = InboundEvent.decode(type: type, payload: m) {
                    Issue.record("\(type.rawValue) #\(i) was accepted: \(String(decoding: m.prefix(300), as: UTF8.self))")
                }
            }
        }
    }

    @Test func tenThousandBadMessagesOnEveryChannelAreCountedAndGoodSignalsStillGetPlans() async throws {
        let f = try await SystemFixture("hostile")
        let execution = try f.start(.execution, ["LOG_LEVEL": "warning"])
        let monitor = try f.start(.monitor, ["LOG_LEVEL": "warning"])
        try await execution.waitHealth(200, within: .seconds(20))
        try await monitor.waitHealth(200, within: .seconds(20))
        let rejectedBefore = (
            try await execution.metricSum("exitbrain_events_rejected_total"), try await monitor.metricSum("exitbrain_events_rejected_total")
        )

        // Two rounds of the same volume: memory may settle after the first, it must not keep
        // growing with the second.
        let n = Self.perChannel
        var good = 0
        var rss: [Double] = [execution.rssMB]
        for round in 0..<2 {
            let half = n / 2
            let signals = HostileCorpus.signals(count: half, seed: 1 + round * half)
            let ticks = HostileCorpus.ticks(count: half, seed: 2 + round * half)
            let beats = HostileCorpus.heartbeats(count: half, seed: 3 + round * half)
            var batch: [RedisCommand] = []
            for i in 0..<half {
                batch.append(RedisCommand(["PUBLISH", f.namespace.channel(.tradeSignal), signals[i]]))
                batch.append(RedisCommand(["PUBLISH", f.namespace.channel(.marketTick), ticks[i]]))
                batch.append(RedisCommand(["PUBLISH", f.namespace.channel(.heartbeat), beats[i]]))
                // The monitor also reads the plan and position events (to know what changed):
                // the same junk there, with no key or symbol to name a record.
                let feedChannel: EventType = [.planCreated, .planUpdated, .planClosed, .positionUpdated][i % 4]
                batch.append(
                    RedisCommand([
                        "PUBLISH", f.namespace.channel(feedChannel), HostileCorpus.message(kind: [0, 1, 11, 12, 13, 14][i % 6], n: i, type: "x"),
                    ]))
                if i % max(1, half / 50) == 0, good < 50 * (round + 1) {
                    batch.append(RedisCommand(["PUBLISH", f.namespace.channel(.tradeSignal), f.signalJSON("GOOD\(good)USDT", "BUY")]))
                    good += 1
                }
                if batch.count >= 600 {
                    _ = try await f.conn.pipeline(batch)
                    batch.removeAll(keepingCapacity: true)
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            _ = try await f.conn.pipeline(batch)
            let sent = Double((round + 1) * half)
            try await f.eventually("round \(round + 1): every bad message counted", within: .seconds(60)) {
                let byExecution = try await execution.metricSum("exitbrain_events_rejected_total") - rejectedBefore.0
                let byMonitor = try await monitor.metricSum("exitbrain_events_rejected_total") - rejectedBefore.1
                return byExecution >= 2 * sent && byMonitor >= 2 * sent
            }
            rss.append(execution.rssMB)
        }
        try await f.eventually("every good signal has its plan", within: .seconds(30)) { try await f.planCount() == good }
        let total = Double(2 * (n / 2))
        let countedByExecution = try await execution.metricSum("exitbrain_events_rejected_total") - rejectedBefore.0
        #expect(countedByExecution == 2 * total, "execution counts each bad message once")
        #expect(
            try await monitor.metricSum("exitbrain_events_rejected_total") - rejectedBefore.1 == 2 * total,
            "monitor counts each bad heartbeat and plan event once")
        let metrics = try await execution.get("/metrics").body
        let reasons = Set(
            metrics.split(separator: "\n").filter { $0.hasPrefix("exitbrain_events_rejected_total{") && !$0.hasSuffix(" 0") }
                .compactMap { line in line.range(of: "reason=\"").map { String(line[$0.upperBound...].prefix { $0 != "\"" }) } })
        #expect(
            reasons.isSuperset(of: [
                "too_large", "invalid_json", "invalid_envelope", "wrong_event_type", "wrong_type",
                "invalid_number", "unknown_side", "unknown_key", "invalid_value",
            ]), "reasons seen: \(reasons.sorted())")
        #expect(execution.isRunning && monitor.isRunning)
        try await execution.waitHealth(200, within: .seconds(10))
        try await monitor.waitHealth(200, within: .seconds(10))
        #expect(rss[2] - rss[1] < 24, "RSS \(rss.map { Int($0) }) MB: still growing in the second round")
        #expect(rss[2] < 256, "RSS \(Int(rss[2])) MB")
        print(
            "hostile: \(Int(5 * total)) bad messages, \(good) good signals; execution RSS MB start/after round 1/after round 2: \(rss.map { Int($0) })"
        )
        await f.stopAll()
    }
}
