import ExitBrainCoordination
import ExitBrainDomain

/// How a batch of events is handled side by side: each symbol's events (its signals and ticks;
/// at the venue its orders', positions' and prices' news) go, in their order, in a lane of that
/// symbol's, and the lanes run side by side (their round trips share the connection's writes).
/// A lane is a symbol's, not a position's: a tick moves both sides of its symbol, and in one-way
/// mode a symbol's long and short are one position at the venue. An event of no one symbol (a
/// heartbeat, a gap in the venue's stream) waits for the lanes before it, and what comes after it
/// waits for it.
enum EventLanes {
    /// The batch cut into stages, in order: a stage's lanes may run side by side, a lane's
    /// events run one after another. An event without a symbol is a stage of its own.
    static func split<Event>(_ events: [(symbol: String?, event: Event)]) -> [[[Event]]] {
        var stages: [[[Event]]] = []
        var lanes: [[Event]] = []
        var laneOf: [String: Int] = [:]
        for (symbol, event) in events {
            guard let symbol else {
                if !lanes.isEmpty { stages.append(lanes) }
                stages.append([[event]])
                lanes = []
                laneOf = [:]
                continue
            }
            if let lane = laneOf[symbol] {
                lanes[lane].append(event)
            } else {
                laneOf[symbol] = lanes.count
                lanes.append([event])
            }
        }
        if !lanes.isEmpty { stages.append(lanes) }
        return stages
    }

    /// Handles the batch as ``split(_:)`` cuts it.
    static func run<Event: Sendable>(_ events: [(symbol: String?, event: Event)], _ handle: @escaping @Sendable (Event) async -> Void) async {
        for stage in split(events) {
            guard stage.count > 1 else {
                for event in stage[0] { await handle(event) }
                continue
            }
            await withTaskGroup(of: Void.self) { group in
                for lane in stage {
                    group.addTask { for event in lane { await handle(event) } }
                }
            }
        }
    }

    /// The symbol whose lane a bus event goes in: a signal's (to open or to close) or a tick's;
    /// none for a heartbeat.
    static func symbol(of event: InboundEvent) -> String? {
        switch event {
        case .signal(let signal, _): signal.symbol
        case .tick(let tick, _): tick.symbol
        case .heartbeat: nil
        }
    }
}
