import Foundation

// The REST answers of Binance USD-M futures that ExitBrain reads, with Binance's field names;
// the simulator encodes the same types. Money fields are strings on the wire.

/// `GET /fapi/v1/time`.
public struct ServerTime: Codable, Sendable {
    public var serverTime: Int64
    public init(serverTime: Int64) { self.serverTime = serverTime }
}

/// An error answer: `{"code":-2021,"msg":"Order would immediately trigger."}`.
public struct ErrorBody: Codable, Sendable {
    public var code: Int
    public var msg: String
    public init(code: Int, msg: String) {
        self.code = code
        self.msg = msg
    }
}

/// `GET /fapi/v1/positionSide/dual`.
public struct PositionModeAnswer: Codable, Sendable {
    public var dualSidePosition: Bool
    public init(dualSidePosition: Bool) { self.dualSidePosition = dualSidePosition }
}

/// `POST /fapi/v1/listenKey`.
public struct ListenKeyAnswer: Codable, Sendable {
    public var listenKey: String
    public init(listenKey: String) { self.listenKey = listenKey }
}

/// `POST /fapi/v1/leverage`.
public struct LeverageAnswer: Codable, Sendable {
    public var leverage: Int
    public var maxNotionalValue: String
    public var symbol: String
    public init(leverage: Int, maxNotionalValue: String, symbol: String) {
        self.leverage = leverage
        self.maxNotionalValue = maxNotionalValue
        self.symbol = symbol
    }
}

/// One filter of `exchangeInfo`: only the fields of the filters ExitBrain reads are typed.
public struct SymbolFilter: Codable, Sendable {
    public var filterType: String
    public var tickSize: String?
    public var minPrice: String?
    public var maxPrice: String?
    public var stepSize: String?
    public var minQty: String?
    public var maxQty: String?
    public var notional: String?
    public var limit: Int?
    public var multiplierUp: String?
    public var multiplierDown: String?
    public var multiplierDecimal: String?

    public init(
        filterType: String, tickSize: String? = nil, minPrice: String? = nil, maxPrice: String? = nil, stepSize: String? = nil,
        minQty: String? = nil, maxQty: String? = nil, notional: String? = nil, limit: Int? = nil, multiplierUp: String? = nil,
        multiplierDown: String? = nil, multiplierDecimal: String? = nil
    ) {
        self.filterType = filterType
        self.tickSize = tickSize
        self.minPrice = minPrice
        self.maxPrice = maxPrice
        self.stepSize = stepSize
        self.minQty = minQty
        self.maxQty = maxQty
        self.notional = notional
        self.limit = limit
        self.multiplierUp = multiplierUp
        self.multiplierDown = multiplierDown
        self.multiplierDecimal = multiplierDecimal
    }
}

/// One symbol of `exchangeInfo`.
public struct ExchangeSymbol: Codable, Sendable {
    public var symbol: String
    public var pair: String
    public var contractType: String
    public var deliveryDate: Int64
    public var onboardDate: Int64
    public var status: String
    public var baseAsset: String
    public var quoteAsset: String
    public var marginAsset: String
    public var pricePrecision: Int
    public var quantityPrecision: Int
    public var baseAssetPrecision: Int
    public var quotePrecision: Int
    public var underlyingType: String
    public var settlePlan: Int
    public var triggerProtect: String
    public var maintMarginPercent: String
    public var requiredMarginPercent: String
    public var filters: [SymbolFilter]
    public var orderTypes: [String]
    public var timeInForce: [String]
    public var liquidationFee: String
    public var marketTakeBound: String

    public init(
        symbol: String, baseAsset: String, quoteAsset: String, pricePrecision: Int, quantityPrecision: Int, filters: [SymbolFilter],
        orderTypes: [String]
    ) {
        self.symbol = symbol
        pair = symbol
        contractType = "PERPETUAL"
        deliveryDate = 4_133_404_800_000
        onboardDate = 1_569_398_400_000
        status = "TRADING"
        self.baseAsset = baseAsset
        self.quoteAsset = quoteAsset
        marginAsset = quoteAsset
        self.pricePrecision = pricePrecision
        self.quantityPrecision = quantityPrecision
        baseAssetPrecision = 8
        quotePrecision = 8
        underlyingType = "COIN"
        settlePlan = 0
        triggerProtect = "0.0500"
        maintMarginPercent = "2.5000"
        requiredMarginPercent = "5.0000"
        self.filters = filters
        self.orderTypes = orderTypes
        timeInForce = ["GTC", "IOC", "FOK", "GTX", "GTD"]
        liquidationFee = "0.012500"
        marketTakeBound = "0.05"
    }

    /// The filter of a type.
    public func filter(_ type: String) -> SymbolFilter? { filters.first { $0.filterType == type } }
}

/// A rate limit entry of `exchangeInfo`.
public struct RateLimit: Codable, Sendable {
    public var rateLimitType: String
    public var interval: String
    public var intervalNum: Int
    public var limit: Int
    public init(rateLimitType: String, interval: String, intervalNum: Int, limit: Int) {
        self.rateLimitType = rateLimitType
        self.interval = interval
        self.intervalNum = intervalNum
        self.limit = limit
    }
}

/// An asset of `exchangeInfo`.
public struct ExchangeAsset: Codable, Sendable {
    public var asset: String
    public var marginAvailable: Bool
    public var autoAssetExchange: String?
    public init(asset: String) {
        self.asset = asset
        marginAvailable = true
        autoAssetExchange = "0"
    }
}

/// `GET /fapi/v1/exchangeInfo`.
public struct ExchangeInfo: Codable, Sendable {
    public var timezone: String
    public var serverTime: Int64
    public var futuresType: String
    public var rateLimits: [RateLimit]
    public var exchangeFilters: [String]
    public var assets: [ExchangeAsset]
    public var symbols: [ExchangeSymbol]
    public init(serverTime: Int64, rateLimits: [RateLimit], assets: [ExchangeAsset], symbols: [ExchangeSymbol]) {
        timezone = "UTC"
        self.serverTime = serverTime
        futuresType = "U_MARGINED"
        self.rateLimits = rateLimits
        exchangeFilters = []
        self.assets = assets
        self.symbols = symbols
    }
}

/// A regular order: `POST/GET/DELETE /fapi/v1/order`, `GET /fapi/v1/openOrders`.
public struct OrderAnswer: Codable, Sendable {
    public var orderId: Int64
    public var symbol: String
    public var status: String
    public var clientOrderId: String
    public var price: String
    public var avgPrice: String
    public var origQty: String
    public var executedQty: String
    public var cumQty: String
    public var cumQuote: String
    public var timeInForce: String
    public var type: String
    public var origType: String
    public var reduceOnly: Bool
    public var closePosition: Bool
    public var side: String
    public var positionSide: String
    public var stopPrice: String
    public var workingType: String
    public var priceProtect: Bool
    public var priceMatch: String
    public var selfTradePreventionMode: String
    public var goodTillDate: Int64
    public var time: Int64
    public var updateTime: Int64

    public init(
        orderId: Int64, symbol: String, status: String, clientOrderId: String, avgPrice: String, origQty: String, executedQty: String,
        cumQuote: String, type: String, reduceOnly: Bool, side: String, positionSide: String, time: Int64, updateTime: Int64
    ) {
        self.orderId = orderId
        self.symbol = symbol
        self.status = status
        self.clientOrderId = clientOrderId
        price = "0"
        self.avgPrice = avgPrice
        self.origQty = origQty
        self.executedQty = executedQty
        cumQty = executedQty
        self.cumQuote = cumQuote
        timeInForce = "GTC"
        self.type = type
        origType = type
        self.reduceOnly = reduceOnly
        closePosition = false
        self.side = side
        self.positionSide = positionSide
        stopPrice = "0"
        workingType = "CONTRACT_PRICE"
        priceProtect = false
        priceMatch = "NONE"
        selfTradePreventionMode = "EXPIRE_MAKER"
        goodTillDate = 0
        self.time = time
        self.updateTime = updateTime
    }
}

/// A conditional order of the Algo Order API: `POST/GET/DELETE /fapi/v1/algoOrder`,
/// `GET /fapi/v1/openAlgoOrders`. `actualOrderId` names the child once triggered.
public struct AlgoOrderAnswer: Codable, Sendable {
    public var algoId: Int64
    public var clientAlgoId: String
    public var algoType: String
    public var orderType: String
    public var symbol: String
    public var side: String
    public var positionSide: String
    public var timeInForce: String
    public var quantity: String
    public var algoStatus: String
    public var triggerPrice: String
    public var price: String
    public var icebergQuantity: String?
    public var selfTradePreventionMode: String
    public var workingType: String
    public var priceMatch: String
    public var closePosition: Bool
    public var priceProtect: Bool
    public var reduceOnly: Bool
    public var activatePrice: String?
    public var callbackRate: String?
    public var createTime: Int64
    public var updateTime: Int64
    public var triggerTime: Int64
    public var goodTillDate: Int64
    public var actualOrderId: String?
    public var avgPrice: String?
    public var executedQty: String?

    public init(
        algoId: Int64, clientAlgoId: String, orderType: String, symbol: String, side: String, positionSide: String, quantity: String,
        algoStatus: String, triggerPrice: String, workingType: String, closePosition: Bool, reduceOnly: Bool, createTime: Int64
    ) {
        self.algoId = algoId
        self.clientAlgoId = clientAlgoId
        algoType = "CONDITIONAL"
        self.orderType = orderType
        self.symbol = symbol
        self.side = side
        self.positionSide = positionSide
        timeInForce = "GTC"
        self.quantity = quantity
        self.algoStatus = algoStatus
        self.triggerPrice = triggerPrice
        price = "0.00"
        icebergQuantity = nil
        selfTradePreventionMode = "EXPIRE_MAKER"
        self.workingType = workingType
        priceMatch = "NONE"
        self.closePosition = closePosition
        priceProtect = false
        self.reduceOnly = reduceOnly
        activatePrice = nil
        callbackRate = nil
        self.createTime = createTime
        updateTime = createTime
        triggerTime = 0
        goodTillDate = 0
        actualOrderId = nil
        avgPrice = nil
        executedQty = nil
    }
}

/// `DELETE /fapi/v1/algoOrder`.
public struct AlgoCancelAnswer: Codable, Sendable {
    public var algoId: Int64
    public var clientAlgoId: String
    public var code: String
    public var msg: String
    public init(algoId: Int64, clientAlgoId: String) {
        self.algoId = algoId
        self.clientAlgoId = clientAlgoId
        code = "200"
        msg = "success"
    }
}

/// A row of `GET /fapi/v2/positionRisk` (and v3, which lacks `leverage`).
public struct PositionRiskRow: Codable, Sendable {
    public var symbol: String
    public var positionAmt: String
    public var entryPrice: String
    public var breakEvenPrice: String
    public var markPrice: String
    public var unRealizedProfit: String
    public var liquidationPrice: String
    public var leverage: String?
    public var maxNotionalValue: String
    public var marginType: String
    public var isolatedMargin: String
    public var isAutoAddMargin: String
    public var positionSide: String
    public var notional: String
    public var isolatedWallet: String
    public var updateTime: Int64

    public init(
        symbol: String, positionAmt: String, entryPrice: String, markPrice: String, unRealizedProfit: String, leverage: String?,
        positionSide: String, notional: String, updateTime: Int64
    ) {
        self.symbol = symbol
        self.positionAmt = positionAmt
        self.entryPrice = entryPrice
        breakEvenPrice = entryPrice
        self.markPrice = markPrice
        self.unRealizedProfit = unRealizedProfit
        liquidationPrice = "0"
        self.leverage = leverage
        maxNotionalValue = "250000"
        marginType = "cross"
        isolatedMargin = "0.00000000"
        isAutoAddMargin = "false"
        self.positionSide = positionSide
        self.notional = notional
        isolatedWallet = "0"
        self.updateTime = updateTime
    }
}
