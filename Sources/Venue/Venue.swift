import ExitBrainDomain
import Foundation

/// How a venue is doing, for the `exchange` entry of health.
public struct VenueHealth: Sendable {
    /// `paper` or `binance`.
    public var kind: String
    /// Reachable and accepting orders.
    public var reachable: Bool
    /// Degraded: rate-limited, a stream down, a clock off.
    public var degraded: Bool
    /// Facts in answer order (latency, stream state, weight used, open orders…).
    public var details: [(String, String)]
    /// A condition an operator must act on now (banned by the venue, key refused): its alert
    /// code and words; nil when there is none.
    public var alarm: (code: String, message: String)?

    /// A health entry.
    public init(
        kind: String, reachable: Bool, degraded: Bool = false, details: [(String, String)] = [], alarm: (code: String, message: String)? = nil
    ) {
        self.kind = kind
        self.reachable = reachable
        self.degraded = degraded
        self.details = details
        self.alarm = alarm
    }
}

/// An order working at the venue, as its open-order listings show it.
public struct OpenOrder: Sendable, Equatable {
    /// The client id (`clientAlgoId` for a conditional order).
    public var clientOrderId: String
    /// The symbol.
    public var symbol: String
    /// A conditional (algo) order.
    public var conditional: Bool

    /// An open order.
    public init(clientOrderId: String, symbol: String, conditional: Bool) {
        self.clientOrderId = clientOrderId
        self.symbol = symbol
        self.conditional = conditional
    }
}

/// What the execution service asks of a trading venue (docs/contract.md §11): one interface,
/// implemented by the paper venue and by Binance USD-M futures. Requests arrive on the
/// venue's tick and step (``SymbolRules``); conditional orders (stops, take-profits) are
/// addressed by the same client ids as the others, whatever separate ids the venue keeps.
public protocol Venue: Sendable {
    /// `paper` or `binance`.
    var kind: String { get }
    /// The rules of a symbol.
    func rules(for symbol: String) async throws(VenueError) -> SymbolRules
    /// Places an order. The answer is the venue's acknowledgement; `unknownOutcome` means it
    /// may exist (query it, never resend with a new id).
    func place(_ request: OrderRequest) async throws(VenueError) -> OrderUpdate
    /// Places several orders, the answers in the same order, each as ``place(_:)`` would give
    /// it. A venue that can send them together does (the paper venue: one round trip for a
    /// plan's resting orders); by default they go one after another.
    func placeAll(_ requests: [OrderRequest]) async -> [Result<OrderUpdate, VenueError>]
    /// True when ``placeAll(_:)`` and ``cancelAll(_:)`` send their requests in one write (they
    /// leave together or not at all); false when they send them one after another, so a caller
    /// that must check something before each request (a lease) sends them itself.
    var placesTogether: Bool { get }
    /// Cancels an order by client id.
    func cancel(clientOrderId: String, symbol: String, conditional: Bool) async throws(VenueError)
    /// Cancels several orders, the outcomes in the same order, each as
    /// ``cancel(clientOrderId:symbol:conditional:)`` would give it (the paper venue: one round
    /// trip for a closed position's resting orders); by default one after another.
    func cancelAll(_ orders: [OpenOrder]) async -> [Result<Void, VenueError>]
    /// What the venue knows of an order by client id; `notFound` when it knows nothing.
    func query(clientOrderId: String, symbol: String, conditional: Bool) async throws(VenueError) -> OrderUpdate
    /// The open (working) orders, regular and conditional.
    func openOrders() async throws(VenueError) -> [OpenOrder]
    /// The open positions.
    func positions() async throws(VenueError) -> [VenuePosition]
    /// One open position (nil when flat).
    func position(_ key: PositionKey) async throws(VenueError) -> VenuePosition?
    /// A price seen outside the venue (a bus `market.tick`): the paper venue trades on it; a
    /// real venue, with its own mark price stream, ignores it.
    func observe(symbol: String, price: Decimal) async
    /// A new subscription to the venue's events, from now on; ending the iteration (or
    /// cancelling its task) unsubscribes.
    func events() async -> AsyncStream<VenueEvent>
    /// How the venue is doing.
    func health() async -> VenueHealth
    /// The venue's own price of a symbol now, when it has one to give (a real venue's mark
    /// price); nil when prices come from outside (the paper venue's bus ticks).
    func markPrice(_ symbol: String) async throws(VenueError) -> Decimal?
}

extension Venue {
    public func markPrice(_ symbol: String) async throws(VenueError) -> Decimal? { nil }

    public func placeAll(_ requests: [OrderRequest]) async -> [Result<OrderUpdate, VenueError>] { await placeOneByOne(requests) }

    public var placesTogether: Bool { false }

    public func cancelAll(_ orders: [OpenOrder]) async -> [Result<Void, VenueError>] { await cancelOneByOne(orders) }

    /// ``cancelAll(_:)`` by one ``cancel(clientOrderId:symbol:conditional:)`` after another.
    public func cancelOneByOne(_ orders: [OpenOrder]) async -> [Result<Void, VenueError>] {
        var outcomes: [Result<Void, VenueError>] = []
        outcomes.reserveCapacity(orders.count)
        for order in orders {
            do throws(VenueError) {
                try await cancel(clientOrderId: order.clientOrderId, symbol: order.symbol, conditional: order.conditional)
                outcomes.append(.success(()))
            } catch { outcomes.append(.failure(error)) }
        }
        return outcomes
    }

    /// ``placeAll(_:)`` by one ``place(_:)`` after another.
    public func placeOneByOne(_ requests: [OrderRequest]) async -> [Result<OrderUpdate, VenueError>] {
        var answers: [Result<OrderUpdate, VenueError>] = []
        answers.reserveCapacity(requests.count)
        for request in requests {
            do throws(VenueError) { answers.append(.success(try await place(request))) } catch { answers.append(.failure(error)) }
        }
        return answers
    }
}
