import ExitBrainCoordination
import ExitBrainDomain

/// How a batch of inbound events is handled: consecutive OPEN signals for different positions
/// form a wave, handled side by side (their round trips share the connection's writes); every
/// other event (a tick, a CLOSE, a second signal for a position already in the wave) waits for
/// the wave before it and is handled alone. Events for one position stay in order.
enum EventWaves {
    /// The batch, cut into waves, in order.
    static func split(_ events: [InboundEvent]) -> [[InboundEvent]] {
        var waves: [[InboundEvent]] = []
        var wave: [InboundEvent] = []
        var keys: Set<PositionKey> = []
        for event in events {
            guard case .signal(let signal, _) = event, signal.action != .close else {
                if !wave.isEmpty { waves.append(wave) }
                waves.append([event])
                wave = []
                keys = []
                continue
            }
            let key = PositionKey(symbol: signal.symbol, side: signal.side.positionSide)
            if !keys.insert(key).inserted {
                waves.append(wave)
                wave = []
                keys = [key]
            }
            wave.append(event)
        }
        if !wave.isEmpty { waves.append(wave) }
        return waves
    }
}
