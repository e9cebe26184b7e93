import Foundation

// The user data stream's and the market stream's events, with Binance's one-letter field
// names (kept as the wire has them; each is documented).

/// `ORDER_TRADE_UPDATE`: an order's change (`o`).
public struct OrderTradeUpdate: Codable, Sendable {
    /// The order.
    public struct Order: Codable, Sendable {
        /// Symbol.
        public var s: String
        /// Client order id.
        public var c: String
        /// Side.
        public var S: String
        /// Order type.
        public var o: String
        /// Original quantity.
        public var q: String
        /// Average price.
        public var ap: String
        /// Stop price.
        public var sp: String
        /// Execution type (NEW, TRADE, CANCELED, EXPIRED…).
        public var x: String
        /// Order status.
        public var X: String
        /// Order id.
        public var i: Int64
        /// Last filled quantity.
        public var l: String
        /// Cumulative filled quantity.
        public var z: String
        /// Last filled price.
        public var L: String
        /// Trade time.
        public var T: Int64
        /// Reduce-only.
        public var R: Bool
        /// Position side.
        public var ps: String
        /// Realized profit of the trade.
        public var rp: String
        /// Original type.
        public var ot: String

        public init(
            s: String, c: String, S: String, o: String, q: String, ap: String, x: String, X: String, i: Int64, l: String, z: String,
            L: String, T: Int64, R: Bool, ps: String, rp: String
        ) {
            self.s = s
            self.c = c
            self.S = S
            self.o = o
            self.q = q
            self.ap = ap
            sp = "0"
            self.x = x
            self.X = X
            self.i = i
            self.l = l
            self.z = z
            self.L = L
            self.T = T
            self.R = R
            self.ps = ps
            self.rp = rp
            ot = o
        }
    }
    /// `ORDER_TRADE_UPDATE`.
    public var e: String
    /// Event time.
    public var E: Int64
    /// Transaction time.
    public var T: Int64
    /// The order.
    public var o: Order

    public init(E: Int64, o: Order) {
        e = "ORDER_TRADE_UPDATE"
        self.E = E
        T = E
        self.o = o
    }
}

/// `ALGO_UPDATE`: a conditional order's change (`o`).
public struct AlgoUpdate: Codable, Sendable {
    /// The algo order.
    public struct Algo: Codable, Sendable {
        /// Client algo id.
        public var caid: String
        /// Algo id.
        public var aid: Int64
        /// Algo type.
        public var at: String
        /// Order type.
        public var o: String
        /// Symbol.
        public var s: String
        /// Side.
        public var S: String
        /// Position side.
        public var ps: String
        /// Quantity.
        public var q: String
        /// Algo status.
        public var X: String
        /// The child order's id in the matching engine, once triggered ("" before).
        public var ai: String
        /// Average fill price of the child.
        public var ap: String
        /// Executed quantity of the child.
        public var aq: String
        /// Trigger price.
        public var tp: String
        /// Working type.
        public var wt: String
        /// Reduce-only.
        public var R: Bool

        public init(
            caid: String, aid: Int64, o: String, s: String, S: String, ps: String, q: String, X: String, ai: String, ap: String,
            aq: String, tp: String, wt: String, R: Bool
        ) {
            self.caid = caid
            self.aid = aid
            at = "CONDITIONAL"
            self.o = o
            self.s = s
            self.S = S
            self.ps = ps
            self.q = q
            self.X = X
            self.ai = ai
            self.ap = ap
            self.aq = aq
            self.tp = tp
            self.wt = wt
            self.R = R
        }
    }
    /// `ALGO_UPDATE`.
    public var e: String
    /// Transaction time.
    public var T: Int64
    /// Event time.
    public var E: Int64
    /// The algo order.
    public var o: Algo

    public init(E: Int64, o: Algo) {
        e = "ALGO_UPDATE"
        T = E
        self.E = E
        self.o = o
    }
}

/// `ACCOUNT_UPDATE`: changed balances and positions (`a`).
public struct AccountUpdate: Codable, Sendable {
    /// A position row.
    public struct Position: Codable, Sendable {
        /// Symbol.
        public var s: String
        /// Position amount (signed).
        public var pa: String
        /// Entry price.
        public var ep: String
        /// Breakeven price.
        public var bep: String
        /// Accumulated realized.
        public var cr: String
        /// Unrealized PnL.
        public var up: String
        /// Margin type.
        public var mt: String
        /// Isolated wallet.
        public var iw: String
        /// Position side.
        public var ps: String

        public init(s: String, pa: String, ep: String, up: String, ps: String) {
            self.s = s
            self.pa = pa
            self.ep = ep
            bep = ep
            cr = "0"
            self.up = up
            mt = "cross"
            iw = "0"
            self.ps = ps
        }
    }
    /// A balance row.
    public struct Balance: Codable, Sendable {
        /// Asset.
        public var a: String
        /// Wallet balance.
        public var wb: String
        /// Cross wallet balance.
        public var cw: String
        /// Balance change except PnL and commission.
        public var bc: String
        public init(a: String, wb: String) {
            self.a = a
            self.wb = wb
            cw = wb
            bc = "0"
        }
    }
    /// The account's changes.
    public struct Account: Codable, Sendable {
        /// Reason (ORDER, FUNDING_FEE…).
        public var m: String
        /// Balances.
        public var B: [Balance]
        /// Positions.
        public var P: [Position]
        public init(m: String, B: [Balance], P: [Position]) {
            self.m = m
            self.B = B
            self.P = P
        }
    }
    /// `ACCOUNT_UPDATE`.
    public var e: String
    /// Event time.
    public var E: Int64
    /// Transaction time.
    public var T: Int64
    /// The changes.
    public var a: Account

    public init(E: Int64, a: Account) {
        e = "ACCOUNT_UPDATE"
        self.E = E
        T = E
        self.a = a
    }
}

/// `listenKeyExpired`.
public struct ListenKeyExpired: Codable, Sendable {
    public var e: String
    public var E: Int64
    public var listenKey: String
    public init(E: Int64, listenKey: String) {
        e = "listenKeyExpired"
        self.E = E
        self.listenKey = listenKey
    }
}

/// `markPriceUpdate` of `<symbol>@markPrice@1s`.
public struct MarkPriceUpdate: Codable, Sendable {
    public var e: String
    public var E: Int64
    /// Symbol.
    public var s: String
    /// Mark price.
    public var p: String
    /// Index price.
    public var i: String
    /// Estimated settle price.
    public var P: String
    /// Funding rate.
    public var r: String
    /// Next funding time.
    public var T: Int64

    public init(E: Int64, s: String, p: String) {
        e = "markPriceUpdate"
        self.E = E
        self.s = s
        self.p = p
        i = p
        P = p
        r = "0.00010000"
        T = (E / 28_800_000 + 1) * 28_800_000
    }
}

/// A combined stream's envelope: `{"stream":"btcusdt@markPrice@1s","data":{…}}`.
public struct StreamEnvelope<Payload: Codable & Sendable>: Codable, Sendable {
    public var stream: String
    public var data: Payload
    public init(stream: String, data: Payload) {
        self.stream = stream
        self.data = data
    }
}

/// One message of a user data or market stream, raw or wrapped in `{stream,data}`.
public enum StreamMessage: Sendable {
    case order(OrderTradeUpdate)
    case algo(AlgoUpdate)
    case account(AccountUpdate)
    case listenKeyExpired(ListenKeyExpired)
    case markPrice(MarkPriceUpdate)
    /// An event ExitBrain does not use (TRADE_LITE, MARGIN_CALL…): its `e`.
    case other(String)

    private struct Probe: Decodable {
        var e: String?
    }
    private struct WrappedProbe: Decodable {
        var stream: String?
        var data: Probe?
    }
    private struct Wrapped<Payload: Decodable>: Decodable {
        var data: Payload
    }

    /// Decodes a message, raw or wrapped; throws on JSON that is no event.
    public static func decode(_ bytes: [UInt8]) throws -> StreamMessage {
        let decoder = JSONDecoder()
        let data = Data(bytes)
        var wrapped = false
        var event = try decoder.decode(Probe.self, from: data).e
        if event == nil {
            let outer = try decoder.decode(WrappedProbe.self, from: data)
            if outer.stream != nil { event = outer.data?.e }
            wrapped = true
        }
        func payload<T: Decodable>(_ type: T.Type) throws -> T {
            wrapped ? try decoder.decode(Wrapped<T>.self, from: data).data : try decoder.decode(T.self, from: data)
        }
        switch event {
        case "ORDER_TRADE_UPDATE": return .order(try payload(OrderTradeUpdate.self))
        case "ALGO_UPDATE": return .algo(try payload(AlgoUpdate.self))
        case "ACCOUNT_UPDATE": return .account(try payload(AccountUpdate.self))
        case "listenKeyExpired": return .listenKeyExpired(try payload(ListenKeyExpired.self))
        case "markPriceUpdate": return .markPrice(try payload(MarkPriceUpdate.self))
        case let name?: return .other(name)
        case nil: throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "no event type"))
        }
    }
}
