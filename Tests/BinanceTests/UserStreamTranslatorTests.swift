import BinanceProtocol
import ExitBrainDomain
import Foundation
import Testing
import Venue

@testable import BinanceVenue

@Suite("User stream translation")
struct UserStreamTranslatorTests {
    static func order(_ c: String, id: Int64, status: String, cumulative: String = "0", average: String = "0") -> StreamMessage {
        .order(
            OrderTradeUpdate(
                E: 1,
                o: .init(
                    s: "BTCUSDT", c: c, S: "SELL", o: "MARKET", q: "0.010", ap: average, x: status == "NEW" ? "NEW" : "TRADE", X: status, i: id,
                    l: cumulative, z: cumulative, L: average, T: 1, R: false, ps: "LONG", rp: "0")))
    }

    static func algo(_ caid: String, status: String, child: String = "", executed: String = "0") -> StreamMessage {
        .algo(
            AlgoUpdate(
                E: 2,
                o: .init(
                    caid: caid, aid: 99, o: "TAKE_PROFIT_MARKET", s: "BTCUSDT", S: "SELL", ps: "LONG", q: "0.010", X: status, ai: child,
                    ap: "50500.0", aq: executed, tp: "50500.0", wt: "MARK_PRICE", R: false)))
    }

    @Test func aChildFillUnderItsAlgosClientIdIsThatOrdersFill() {
        var t = UserStreamTranslator(hedge: true)
        t.know("eb-plan-0-1")
        let events = t.translate(Self.order("eb-plan-0-1", id: 501, status: "FILLED", cumulative: "0.010", average: "50500.0"))
        #expect(
            events == [.order(clientOrderId: "eb-plan-0-1", .filled(cumulative: Decimal(string: "0.010")!, averagePrice: 50500, venueOrderId: "501"))]
        )
    }

    @Test func aChildFillBeforeItsAlgoNamesItIsHeldThenGivenToTheAlgo() {
        var t = UserStreamTranslator(hedge: true)
        // The child's NEW and fill come first, under a client id that is not the algo's.
        _ = t.translate(Self.order("autogen-501", id: 501, status: "NEW"))
        let fill = t.translate(Self.order("autogen-501", id: 501, status: "FILLED", cumulative: "0.010", average: "50500.0"))
        #expect(fill.allSatisfy { if case .order(let c, _) = $0 { c == "autogen-501" } else { false } }, "passed on under its own id only")
        #expect(t.heldCount == 2, "held, never dropped")
        // TRIGGERED names the child: its held news goes to the algo's order, fill included.
        let named = t.translate(Self.algo("eb-plan-0-1", status: "TRIGGERED", child: "501"))
        let fills = named.updates(of: "eb-plan-0-1").filter(\.isFill)
        #expect(fills == [.filled(cumulative: Decimal(string: "0.010")!, averagePrice: 50500, venueOrderId: "501")])
        #expect(t.heldCount == 0)
        // News of the child after that goes straight to the algo.
        let later = t.translate(Self.order("autogen-501", id: 501, status: "FILLED", cumulative: "0.010", average: "50500.0"))
        #expect(later.updates(of: "eb-plan-0-1").count == 1)
    }

    @Test func algoStatusesMapToTheOrderLife() {
        var t = UserStreamTranslator(hedge: false)
        #expect(t.translate(Self.algo("a", status: "NEW")) == [.order(clientOrderId: "a", .accepted(venueOrderId: nil, venueAlgoId: "99"))])
        #expect(t.translate(Self.algo("a", status: "CANCELED")) == [.order(clientOrderId: "a", .canceled)])
        #expect(t.translate(Self.algo("a", status: "EXPIRED")) == [.order(clientOrderId: "a", .expired)])
        #expect(t.translate(Self.algo("a", status: "FINISHED", child: "7", executed: "0.010")).updates(of: "a").contains { $0.isFill })
        #expect(t.translate(Self.algo("a", status: "FINISHED", child: "7", executed: "0")).updates(of: "a").isEmpty, "no fill, no news")
    }

    @Test func oneWayAccountRowsAreASideAndTheOtherFlat() {
        let t = UserStreamTranslator(hedge: false)
        let short = t.positions([AccountUpdate.Position(s: "ETHUSDT", pa: "-1.500", ep: "3000.0", up: "0", ps: "BOTH")])
        #expect(short.contains(.position(VenuePosition(key: PositionKey(symbol: "ETHUSDT", side: .short), quantity: 1.5, entryPrice: 3000))))
        #expect(short.contains(.position(VenuePosition(key: PositionKey(symbol: "ETHUSDT", side: .long), quantity: 0, entryPrice: 3000))))
        let hedge = UserStreamTranslator(hedge: true).positions([
            AccountUpdate.Position(s: "ETHUSDT", pa: "-1.500", ep: "3000.0", up: "0", ps: "SHORT")
        ])
        #expect(hedge == [.position(VenuePosition(key: PositionKey(symbol: "ETHUSDT", side: .short), quantity: 1.5, entryPrice: 3000))])
    }
}
