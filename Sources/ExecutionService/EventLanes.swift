import ExitBrainCoordination
import ExitBrainDomain

/// How a batch of events is handled side by side: each symbol's events go, in their order, in a
/// lane of that symbol's, and the lanes run side by side (their round trips share the
/// connection's writes). A lane is a symbol's, not a position's: in one-way mode a symbol's long
/// and short are one position at the venue. An event of no one symbol (a tick, which moves both
/// sides and the paper venue's fills; a venue's price or a gap in its stream) waits for the
/// lanes before it, and what comes after it waits for it.
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

    /// The symbol a bus event's lane is: a signal's (to open or to close); none for a tick (it
    /// may fill orders at the paper venue, and every lane's prices are its) or a heartbeat.
    static func symbol(of event: InboundEvent) -> String? {
        guard case .signal(let signal, _) = event else { return nil }
        return signal.symbol
    }
}
