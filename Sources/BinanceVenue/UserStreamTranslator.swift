import BinanceProtocol
import ExitBrainDomain
import Foundation
import Venue

/// Turns user data stream messages into ``VenueEvent``s, correlating a triggered conditional
/// order's child with its algo: a child fill is matched by its client id `c` when that is the
/// algo's `clientAlgoId` (as nautilus observed), else held by its order id until the algo's
/// `ALGO_UPDATE` names that id in `ai`; held fills are never dropped before that.
struct UserStreamTranslator: Sendable {
    /// The account's position mode (hedge: LONG/SHORT rows; one-way: BOTH).
    var hedge: Bool
    /// Client ids this adapter placed or found (its own orders).
    private(set) var known: Set<String> = []
    /// Child order id → the algo's client id, from `ALGO_UPDATE`'s `ai`.
    private var childOwners: [Int64: String] = [:]
    /// Fills of children not yet named by their algo, by child order id.
    private var held: [Int64: [OrderTradeUpdate.Order]] = [:]

    init(hedge: Bool) { self.hedge = hedge }

    /// Notes a client id as ours. The set is bounded: forgetting only means a later fill of
    /// that id is also kept aside by its order id (it is passed on under its own id anyway).
    mutating func know(_ clientOrderId: String) {
        if known.count >= 200_000 { known.removeAll(keepingCapacity: true) }
        known.insert(clientOrderId)
    }

    /// How many fills wait for their algo.
    var heldCount: Int { held.values.reduce(0) { $0 + $1.count } }

    /// The events of one message.
    mutating func translate(_ message: StreamMessage) -> [VenueEvent] {
        switch message {
        case .order(let update):
            return order(update.o)
        case .algo(let update):
            return algo(update.o)
        case .account(let update):
            return positions(update.a.P)
        case .listenKeyExpired:
            return [.gap(reason: "listenKeyExpired")]
        case .markPrice(let mark):
            guard let price = Decimal(plainText: mark.p), price > 0 else { return [] }
            return [.price(symbol: mark.s, price)]
        case .other:
            return []
        }
    }

    private mutating func order(_ o: OrderTradeUpdate.Order) -> [VenueEvent] {
        guard let update = Self.update(of: o) else { return [] }
        if known.contains(o.c) { return [.order(clientOrderId: o.c, update)] }
        if let owner = childOwners[o.i] { return [.order(clientOrderId: owner, Self.child(update))] }
        // Not ours by its id (a child whose `c` is not its algo's, a manual trade, a
        // liquidation): kept until an algo names it, and passed on under its own id too.
        held[o.i, default: []].append(o)
        if held.count > 10_000, let oldest = held.keys.min() { held[oldest] = nil }
        return [.order(clientOrderId: o.c, update)]
    }

    private mutating func algo(_ a: AlgoUpdate.Algo) -> [VenueEvent] {
        know(a.caid)
        var events = [VenueEvent]()
        let child = Int64(a.ai).flatMap { $0 > 0 ? $0 : nil }
        if let child {
            if childOwners.count >= 100_000 { childOwners.removeAll(keepingCapacity: true) }
            childOwners[child] = a.caid
            for o in held.removeValue(forKey: child) ?? [] {
                if let update = Self.update(of: o) { events.append(.order(clientOrderId: a.caid, Self.child(update))) }
            }
        }
        let algoId = String(a.aid)
        switch a.X {
        case "NEW", "TRIGGERING", "TRIGGERED":
            events.append(.order(clientOrderId: a.caid, .accepted(venueOrderId: child.map(String.init), venueAlgoId: algoId)))
        case "FINISHED":
            if let filled = Decimal(plainText: a.aq), filled > 0 {
                let average = Decimal(plainText: a.ap).flatMap { $0 > 0 ? $0 : nil }
                events.append(.order(clientOrderId: a.caid, .filled(cumulative: filled, averagePrice: average, venueOrderId: child.map(String.init))))
            }
        case "CANCELED": events.append(.order(clientOrderId: a.caid, .canceled))
        case "EXPIRED": events.append(.order(clientOrderId: a.caid, .expired))
        case "REJECTED": events.append(.order(clientOrderId: a.caid, .rejected(code: nil, message: "conditional order rejected by the venue")))
        default: break
        }
        return events
    }

    /// A child's news as its algo's: fills count, its own NEW adds nothing, and its
    /// cancel or expiry (no fill) ends the algo too.
    private static func child(_ update: OrderUpdate) -> OrderUpdate {
        if case .accepted(let orderId, _) = update { return .accepted(venueOrderId: orderId, venueAlgoId: nil) }
        return update
    }

    /// A stream order's status as an ``OrderUpdate``.
    static func update(of o: OrderTradeUpdate.Order) -> OrderUpdate? {
        OrderStatusMapping.update(status: o.X, cumulative: o.z, average: o.ap, orderId: o.i)
    }

    /// `ACCOUNT_UPDATE`'s position rows as positions (both sides in one-way mode: the side
    /// the sign does not name is flat).
    func positions(_ rows: [AccountUpdate.Position]) -> [VenueEvent] {
        var events = [VenueEvent]()
        for row in rows {
            guard let amount = Decimal(plainText: row.pa), let entry = Decimal(plainText: row.ep) else { continue }
            let sides = Self.sides(amount: amount, positionSide: row.ps)
            for (side, quantity) in sides {
                events.append(.position(VenuePosition(key: PositionKey(symbol: row.s, side: side), quantity: quantity, entryPrice: entry)))
            }
        }
        return events
    }

    /// The (side, quantity) pairs a row means: a hedge row is its side; a one-way row is long
    /// or short by its sign, and the other side is flat.
    static func sides(amount: Decimal, positionSide: String) -> [(PositionSide, Decimal)] {
        switch positionSide {
        case "LONG": return [(.long, abs(amount))]
        case "SHORT": return [(.short, abs(amount))]
        default:
            if amount > 0 { return [(.long, amount), (.short, 0)] }
            if amount < 0 { return [(.short, -amount), (.long, 0)] }
            return [(.long, 0), (.short, 0)]
        }
    }
}
