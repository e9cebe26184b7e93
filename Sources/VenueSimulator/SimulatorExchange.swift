import BinanceProtocol
import ExitBrainDomain
import Foundation
import Venue

/// One HTTP request as the simulator sees it.
public struct SimRequest: Sendable {
    public var method: String
    public var path: String
    public var rawQuery: String
    public var rawBody: String
    public var apiKey: String?
    public init(method: String, path: String, rawQuery: String, rawBody: String, apiKey: String?) {
        self.method = method
        self.path = path
        self.rawQuery = rawQuery
        self.rawBody = rawBody
        self.apiKey = apiKey
    }
}

/// One HTTP answer.
public struct SimResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Withheld this long (a fault) before the connection gives up with nothing.
    public var withheld: Duration?

    static func json(_ status: Int, _ body: some Encodable, headers: [(String, String)] = []) -> SimResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = (try? encoder.encode(body)).map(Array.init) ?? Array(#"{"code":-1000,"msg":"encoding"}"#.utf8)
        return SimResponse(status: status, headers: headers, body: bytes, withheld: nil)
    }

    static func error(_ code: BinanceCode, status: Int = 400, message: String? = nil) -> SimResponse {
        json(status, ErrorBody(code: code.rawValue, msg: message ?? code.message))
    }
}

/// A refusal inside a handler: Binance's code, words and HTTP status.
struct SimRefusal: Error {
    var code: BinanceCode
    var status = 400
    var message: String?
    init(_ code: BinanceCode, status: Int = 400, _ message: String? = nil) {
        self.code = code
        self.status = status
        self.message = message
    }
    var response: SimResponse { .error(code, status: status, message: message) }
}

/// The simulated Binance USD-M account and market: one account, its positions, regular and
/// conditional (algo) orders, listenKeys and stream subscribers, the symbols' mark prices and
/// their seeded walk, and the faults a test asked for.
public actor SimulatedExchange {
    struct Position {
        var amount: Decimal = 0
        var entry: Decimal = 0
        var updated: Int64 = 0
    }

    let settings: SimulatorSettings
    let signer: RequestSigner
    var hedge: Bool
    var prices: [String: Decimal] = [:]
    let symbolRules: [String: SymbolRules]
    let symbolOrder: [String]
    var positions: [String: Position] = [:]
    var leverage: [String: Int] = [:]
    var orders: [Int64: OrderAnswer] = [:]
    var orderIdsByClient: [String: Int64] = [:]
    var algos: [Int64: AlgoOrderAnswer] = [:]
    var algoIdsByClient: [String: Int64] = [:]
    var nextOrderId: Int64 = 8_389_765_000
    var nextAlgoId: Int64 = 2_146_760_000
    var listenKey: (key: String, expiresMs: Int64)?
    var userStreams: [Int: (key: String, continuation: AsyncStream<String>.Continuation)] = [:]
    var marketStreams: [Int: (streams: Set<String>, continuation: AsyncStream<String>.Continuation)] = [:]
    var nextStreamId = 0
    var faults = SimulatorFaults()
    var weightMinute: Int64 = 0
    var weightUsed = 0
    var orderCount10s: (window: Int64, count: Int) = (0, 0)
    var orderCount1m: (window: Int64, count: Int) = (0, 0)
    var tooManyInMinute = 0
    var rng: SplitMix64
    /// Client id → how many times an order under it was accepted (tests: nothing twice).
    var acceptances: [String: Int] = [:]
    /// Client id → how many requests to place an order under it arrived, refused ones included.
    var submissions: [String: Int] = [:]
    /// `METHOD path` → requests served.
    var requestCounts: [String: Int] = [:]
    /// User stream events sent, and lost for want of a connection.
    var eventsSent = 0
    var eventsLost = 0

    /// A fresh account: flat, no orders, the symbols at their first prices.
    public init(settings: SimulatorSettings) {
        self.settings = settings
        signer = RequestSigner(secret: settings.apiSecret)
        hedge = settings.hedge
        var rules = [String: SymbolRules]()
        for (symbol, price) in settings.symbols {
            rules[symbol] = SimulatorSettings.rules(symbol: symbol, price: price)
            prices[symbol] = price.rounded(toMultipleOf: rules[symbol]!.tickSize, .plain)
            leverage[symbol] = 20
        }
        symbolRules = rules
        symbolOrder = settings.symbols.map(\.symbol)
        rng = SplitMix64(seed: settings.seed)
    }

    /// Server time, ms: the host's clock plus the clock fault.
    var serverTime: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) + faults.clockOffsetMs }

    static func positionKey(_ symbol: String, _ side: String) -> String { symbol + "|" + side }

    // MARK: - prices

    /// One step of the seeded walk for every symbol (when the walk is on), then triggers and pushes.
    func walk() {
        if settings.walkBps > 0 {
            for symbol in symbolOrder {
                guard let price = prices[symbol], let rules = symbolRules[symbol] else { continue }
                let u = Double(rng.next() >> 11) / Double(1 << 53)
                let move = (u * 2 - 1) * settings.walkBps / 10_000
                let next = (price * Decimal(rounding: 1 + move, places: 10)).rounded(toMultipleOf: rules.tickSize, .plain)
                if next > 0 { prices[symbol] = next }
                checkTriggers(symbol)
            }
        }
        for symbol in symbolOrder { pushMark(symbol) }
    }

    /// Sets a mark price (`/_sim/price`): triggers what it crosses and pushes it at once.
    func setPrice(_ symbol: String, _ price: Decimal) throws(SimRefusal) {
        guard let rules = symbolRules[symbol] else { throw SimRefusal(.badSymbol) }
        guard price > 0 else { throw SimRefusal(.invalidParameter, "price must be positive") }
        prices[symbol] = price.rounded(toMultipleOf: rules.tickSize, .plain)
        checkTriggers(symbol)
        pushMark(symbol)
    }

    /// The periodic loop: walk and mark pushes every `markInterval`, listenKey expiry.
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.markInterval)
            walk()
            if let key = listenKey, key.expiresMs < serverTime { expireListenKey() }
        }
    }
}
