import ExitBrainCoordination
import ExitBrainDomain

/// How a batch of events is handled side by side: each position's events go, in their order,
/// in a lane of that position's, and the lanes run side by side (their round trips share the
/// connection's writes). An event of no one position (a tick, a venue's price, a gap in its
/// stream) waits for the lanes before it, and what comes after it waits for it.
enum EventLanes {
    /// The batch cut into stages, in order: a stage's lanes may run side by side, a lane's
    /// events run one after another. An event without a key is a stage of its own.
    static func split<Event>(_ events: [(key: PositionKey?, event: Event)]) -> [[[Event]]] {
        var stages: [[[Event]]] = []
        var lanes: [[Event]] = []
        var laneOf: [PositionKey: Int] = [:]
        for (key, event) in events {
            guard let key else {
                if !lanes.isEmpty { stages.append(lanes) }
                stages.append([[event]])
                lanes = []
                laneOf = [:]
                continue
            }
            if let lane = laneOf[key] {
                lanes[lane].append(event)
            } else {
                laneOf[key] = lanes.count
                lanes.append([event])
            }
        }
        if !lanes.isEmpty { stages.append(lanes) }
        return stages
    }

    /// Handles the batch as ``split(_:)`` cuts it.
    static func run<Event: Sendable>(_ events: [(key: PositionKey?, event: Event)], _ handle: @escaping @Sendable (Event) async -> Void) async {
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

    /// The position a bus event is about: a signal's (to open or to close); none for a tick (it
    /// moves both sides of its symbol, and the paper venue trades on it) or a heartbeat.
    static func key(of event: InboundEvent) -> PositionKey? {
        guard case .signal(let signal, _) = event else { return nil }
        return PositionKey(symbol: signal.symbol, side: signal.side.positionSide)
    }
}
