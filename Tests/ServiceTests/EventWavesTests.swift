import ExitBrainCoordination
import ExitBrainDomain
import Testing

@testable import ExecutionService

/// How a batch of bus events is cut into waves: open signals for different positions side by
/// side; ticks, closes and a position's second signal each after what came before.
@Suite("Event waves")
struct EventWavesTests {
    func signal(_ id: String, _ symbol: String, _ side: OrderSide = .buy, action: SignalAction = .open) -> InboundEvent {
        .signal(
            TradeSignal(symbol: symbol, side: side, quantity: 1, leverage: 1, price: 100, action: action),
            EnvelopeMeta(id: id, type: "trade.signal", source: "test", ts: ""))
    }

    func tick(_ id: String) -> InboundEvent {
        .tick(MarketTick(symbol: "BTCUSDT", price: 100), EnvelopeMeta(id: id, type: "market.tick", source: "test", ts: ""))
    }

    func ids(_ waves: [[InboundEvent]]) -> [[String]] { waves.map { $0.map(\.meta.id) } }

    @Test func signalsForDifferentPositionsShareAWave() {
        let waves = EventWaves.split([signal("a", "BTCUSDT"), signal("b", "ETHUSDT"), signal("c", "BTCUSDT", .sell)])
        #expect(ids(waves) == [["a", "b", "c"]])
    }

    @Test func aPositionsSecondSignalStartsTheNextWave() {
        let waves = EventWaves.split([signal("a", "BTCUSDT"), signal("b", "ETHUSDT"), signal("c", "BTCUSDT"), signal("d", "SOLUSDT")])
        #expect(ids(waves) == [["a", "b"], ["c", "d"]])
    }

    @Test func ticksAndClosesGoAloneBetweenWaves() {
        let waves = EventWaves.split([
            signal("a", "BTCUSDT"), tick("t"), signal("b", "ETHUSDT"), signal("c", "SOLUSDT"),
            signal("x", "ETHUSDT", action: .close), signal("d", "ADAUSDT"),
        ])
        #expect(ids(waves) == [["a"], ["t"], ["b", "c"], ["x"], ["d"]])
    }

    @Test func everyEventIsInExactlyOneWaveInItsOrder() {
        let symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
        var events: [InboundEvent] = []
        for n in 0..<60 {
            events.append(n % 7 == 0 ? tick("\(n)") : signal("\(n)", symbols[n % 3], n % 2 == 0 ? .buy : .sell))
        }
        let waves = EventWaves.split(events)
        #expect(waves.flatMap { $0 }.map(\.meta.id) == events.map(\.meta.id))
        for wave in waves where wave.count > 1 {
            let keys = wave.compactMap { event -> PositionKey? in
                guard case .signal(let s, _) = event else { return nil }
                return PositionKey(symbol: s.symbol, side: s.side.positionSide)
            }
            #expect(keys.count == wave.count && Set(keys).count == keys.count, "a wave holds open signals for distinct positions only")
        }
    }
}
