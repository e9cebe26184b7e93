import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Synchronization
import Testing

@testable import ExecutionService

/// How a batch of events is cut into lanes: each symbol's events in order in a lane of its own,
/// lanes side by side; an event of no one symbol between the lanes before and after it.
@Suite("Event lanes")
struct EventLanesTests {
    func signal(_ id: String, _ symbol: String, _ side: OrderSide = .buy, action: SignalAction = .open) -> InboundEvent {
        .signal(
            TradeSignal(symbol: symbol, side: side, quantity: 1, leverage: 1, price: 100, action: action),
            EnvelopeMeta(id: id, type: "trade.signal", source: "test", ts: ""))
    }

    func tick(_ id: String, _ symbol: String = "BTCUSDT") -> InboundEvent {
        .tick(MarketTick(symbol: symbol, price: 100), EnvelopeMeta(id: id, type: "market.tick", source: "test", ts: ""))
    }

    func heartbeat(_ id: String) throws -> InboundEvent {
        let beat = try JSONDecoder().decode(
            HeartbeatEvent.self, from: Data(#"{"service":"monitoring-service","instance":"m1","version":"test","status":"OK"}"#.utf8))
        return .heartbeat(beat, EnvelopeMeta(id: id, type: "service.heartbeat", source: "test", ts: ""))
    }

    func stages(_ events: [InboundEvent]) -> [[[String]]] {
        EventLanes.split(events.map { (EventLanes.symbol(of: $0), $0) }).map { $0.map { $0.map(\.meta.id) } }
    }

    @Test func eachSymbolHasALaneInItsOrder() {
        let cut = stages([
            signal("a", "BTCUSDT"), signal("b", "ETHUSDT"), signal("c", "BTCUSDT", .sell), signal("d", "BTCUSDT"),
            signal("x", "ETHUSDT", action: .close),
        ])
        #expect(cut == [[["a", "c", "d"], ["b", "x"]]], "a long and a short of one symbol are one position in one-way mode: one lane")
    }

    @Test func aTickGoesInItsSymbolsLaneBetweenThatSymbolsSignals() {
        let cut = stages([
            signal("a", "BTCUSDT"), tick("t", "ETHUSDT"), signal("b", "ETHUSDT"), tick("u", "BTCUSDT"), signal("c", "BTCUSDT"),
            tick("v", "SOLUSDT"),
        ])
        #expect(cut == [[["a", "u", "c"], ["t", "b"], ["v"]]])
    }

    @Test func aHeartbeatWaitsForTheLanesBeforeIt() throws {
        let cut = stages([signal("a", "BTCUSDT"), tick("t", "ETHUSDT"), try heartbeat("h"), signal("c", "BTCUSDT"), try heartbeat("i")])
        #expect(cut == [[["a"], ["t"]], [["h"]], [["c"]], [["i"]]])
    }

    @Test func everyEventIsInExactlyOneLaneAndEachSymbolKeepsItsOrder() throws {
        let symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
        var events: [InboundEvent] = []
        for n in 0..<60 {
            switch n % 7 {
            case 0: events.append(try heartbeat("\(n)"))
            case 3: events.append(tick("\(n)", symbols[n % 3]))
            default: events.append(signal("\(n)", symbols[n % 3], n % 2 == 0 ? .buy : .sell))
            }
        }
        let split = EventLanes.split(events.map { (EventLanes.symbol(of: $0), $0) })
        #expect(split.flatMap { $0.flatMap { $0 } }.map(\.meta.id).sorted() == events.map(\.meta.id).sorted())
        for stage in split {
            let keys = stage.map { lane in Set(lane.map { EventLanes.symbol(of: $0) }) }
            #expect(keys.allSatisfy { $0.count == 1 }, "a lane holds one symbol's events")
            #expect(Set(keys.compactMap(\.first)).count == stage.count, "a symbol has one lane in a stage")
            for lane in stage {
                let order = lane.compactMap { Int($0.meta.id) }
                #expect(order == order.sorted(), "a lane keeps the batch's order")
            }
        }
    }

    @Test func lanesRunSideBySideAndAStageWaitsForTheOneBefore() async {
        let log = Mutex<[String]>([])
        let inFlight = Mutex((now: 0, most: 0))
        let events: [(symbol: String?, event: String)] = (0..<8).map { ("S\($0)USDT", "s\($0)") } + [(nil, "barrier")]
        await EventLanes.run(events) { name in
            inFlight.withLock {
                $0.now += 1
                $0.most = max($0.most, $0.now)
            }
            try? await Task.sleep(for: .milliseconds(20))
            inFlight.withLock { $0.now -= 1 }
            log.withLock { $0.append(name) }
        }
        #expect(inFlight.withLock { $0.most } > 1, "eight symbols' events one after another")
        #expect(log.withLock { $0.last } == "barrier" && log.withLock { $0.count } == 9)
    }
}
