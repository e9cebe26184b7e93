import ExitBrainDomain
import Foundation
import Testing
import Venue

/// Every transition of an order's life, the allowed ones and the refused ones.
@Suite struct OrderLifecycleTests {
    static let t0 = Date(timeIntervalSince1970: 1_780_000_000)
    static let t1 = t0.addingTimeInterval(1)

    static func record(_ status: OrderStatus, filled: Decimal = 0) -> OrderRecord {
        let request = OrderRequest(
            clientOrderId: "eb-plan-3-1", symbol: "BTCUSDT", side: .sell, positionSide: .long, purpose: .exit, type: .stopMarket,
            quantity: Decimal(string: "0.010")!, triggerPrice: Decimal(string: "48750.0")!)
        var r = OrderRecord(intent: request, key: PositionKey(symbol: "BTCUSDT", side: .long), planId: "plan", legIndex: 3, at: t0)
        r.status = status
        r.filledQuantity = filled
        return r
    }

    static let half = Decimal(string: "0.005")!
    static let all = Decimal(string: "0.010")!
    static let updates: [(String, OrderUpdate)] = [
        ("sent", .sentWithoutAnswer(reason: "timeout")), ("accepted", .accepted(venueOrderId: "1", venueAlgoId: "2")),
        ("half", .filled(cumulative: half, averagePrice: 48_740, venueOrderId: "9")),
        ("all", .filled(cumulative: all, averagePrice: 48_740, venueOrderId: "9")), ("canceled", .canceled),
        ("rejected", .rejected(code: -2021, message: "Order would immediately trigger.")), ("expired", .expired),
    ]

    /// What each status becomes under each update; nil: refused. PARTIALLY_FILLED and CANCELED
    /// start half filled, FILLED all filled: a fill report that repeats what is known is no change.
    static let expected: [OrderStatus: [String: OrderStatus?]] = [
        .intent: [
            "sent": .unknown, "accepted": .new, "half": .partiallyFilled, "all": .filled, "canceled": nil, "rejected": .rejected, "expired": nil,
        ],
        .unknown: [
            "sent": .unknown, "accepted": .new, "half": .partiallyFilled, "all": .filled, "canceled": .canceled, "rejected": .rejected,
            "expired": .expired,
        ],
        .new: ["sent": nil, "accepted": .new, "half": .partiallyFilled, "all": .filled, "canceled": .canceled, "rejected": nil, "expired": .expired],
        .partiallyFilled: [
            "sent": nil, "accepted": .partiallyFilled, "half": .partiallyFilled, "all": .filled, "canceled": .canceled, "rejected": nil,
            "expired": .expired,
        ],
        .filled: ["sent": nil, "accepted": .filled, "half": nil, "all": .filled, "canceled": nil, "rejected": nil, "expired": nil],
        .canceled: ["sent": nil, "accepted": nil, "half": .canceled, "all": .canceled, "canceled": .canceled, "rejected": nil, "expired": nil],
        .rejected: ["sent": nil, "accepted": nil, "half": nil, "all": nil, "canceled": nil, "rejected": .rejected, "expired": nil],
        .expired: ["sent": nil, "accepted": nil, "half": .expired, "all": .expired, "canceled": nil, "rejected": nil, "expired": .expired],
    ]

    @Test(arguments: OrderStatus.allCases)
    func everyUpdateFromEveryStatus(status: OrderStatus) throws {
        let filled: Decimal = status == .partiallyFilled || status == .canceled ? Self.half : status == .filled ? Self.all : 0
        let start = Self.record(status, filled: filled)
        for (name, update) in Self.updates {
            let want = try #require(Self.expected[status]?[name], "no expectation for \(status) + \(name)")
            do {
                let next = try OrderLifecycle.apply(update, to: start, at: Self.t1)
                #expect(want != nil, "\(status.rawValue) took \(name) and became \(next.status.rawValue); it must refuse")
                if let want { #expect(next.status == want, "\(status.rawValue) + \(name)") }
                #expect(next.filledQuantity >= start.filledQuantity, "fills never go down")
            } catch {
                #expect(want == nil, "\(status.rawValue) refused \(name): \(error)")
                #expect(error.from == status)
            }
        }
    }

    @Test func fillsAreCumulativeAndBoundedByTheQuantity() throws {
        let working = try OrderLifecycle.apply(.accepted(venueOrderId: nil, venueAlgoId: "77"), to: Self.record(.intent), at: Self.t1)
        #expect(working.venueAlgoId == "77" && working.updatedAt == Self.t1)
        let part = try OrderLifecycle.apply(.filled(cumulative: Self.half, averagePrice: 48_740, venueOrderId: "5"), to: working, at: Self.t1)
        #expect(part.status == .partiallyFilled && part.remainingQuantity == Self.half && part.venueOrderId == "5")
        #expect(throws: OrderTransitionError.self) {
            try OrderLifecycle.apply(.filled(cumulative: Decimal(string: "0.004")!, averagePrice: nil, venueOrderId: nil), to: part, at: Self.t1)
        }
        #expect(throws: OrderTransitionError.self) {
            try OrderLifecycle.apply(.filled(cumulative: Decimal(string: "0.011")!, averagePrice: nil, venueOrderId: nil), to: part, at: Self.t1)
        }
        let done = try OrderLifecycle.apply(.filled(cumulative: Self.all, averagePrice: 48_738, venueOrderId: nil), to: part, at: Self.t1)
        #expect(done.status == .filled && done.averagePrice == 48_738 && done.venueOrderId == "5")
        #expect(
            try OrderLifecycle.apply(.filled(cumulative: Self.all, averagePrice: 48_738, venueOrderId: nil), to: done, at: Self.t1) == done,
            "a repeated fill is no change")
    }

    @Test func aSentOrderWithoutAnswerKeepsItsIdAndWhy() throws {
        let unknown = try OrderLifecycle.apply(.sentWithoutAnswer(reason: "no answer within 5 s"), to: Self.record(.intent), at: Self.t1)
        #expect(unknown.status == .unknown && unknown.error == "no answer within 5 s" && unknown.clientOrderId == "eb-plan-3-1")
        let found = try OrderLifecycle.apply(.accepted(venueOrderId: "8389765", venueAlgoId: "2146760"), to: unknown, at: Self.t1)
        #expect(found.status == .new && found.venueOrderId == "8389765")
        let refused = try OrderLifecycle.apply(
            .rejected(code: -2021, message: "Order would immediately trigger."), to: Self.record(.intent), at: Self.t1)
        #expect(refused.error == "-2021: Order would immediately trigger.")
    }
}
