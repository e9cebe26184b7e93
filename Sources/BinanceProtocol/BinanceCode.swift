/// The Binance error codes ExitBrain sends, meets or serves, with Binance's own words.
public enum BinanceCode: Int, Sendable, CaseIterable {
    case unknown = -1000
    case disconnected = -1001
    case tooManyRequests = -1003
    case timeout = -1007
    case serverBusy = -1008
    case invalidTimestamp = -1021
    case invalidSignature = -1022
    case illegalChars = -1100
    case mandatoryParamMissing = -1102
    case parameterNotRequired = -1106
    case badPrecision = -1111
    case invalidOrderType = -1116
    case invalidSide = -1117
    case badSymbol = -1121
    case invalidListenKey = -1125
    case invalidParameter = -1130
    case cancelRejected = -2011
    case noSuchOrder = -2013
    case badAPIKeyFormat = -2014
    case rejectedMBXKey = -2015
    case marginInsufficient = -2019
    case wouldImmediatelyTrigger = -2021
    case reduceOnlyRejected = -2022
    case quantityOutOfRange = -4003
    case priceNotOnTick = -4014
    case clientOrderIdInvalid = -4015
    case quantityNotOnStep = -4023
    case maxStopOrders = -4045
    case positionSideMismatch = -4061
    case duplicateClientOrderId = -4116
    case reduceOnlyMarginCheckFailed = -4118
    case useAlgoOrderAPI = -4120
    case closePositionWithQuantity = -4137
    case notionalTooSmall = -4164

    /// Binance's message for the code (the simulator answers with it).
    public var message: String {
        switch self {
        case .unknown: "An unknown error occured while processing the request."
        case .disconnected: "Internal error; unable to process your request. Please try again."
        case .tooManyRequests:
            "Too many requests; current limit is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API."
        case .timeout: "Timeout waiting for response from backend server. Send status unknown; execution status unknown."
        case .serverBusy: "Server is currently overloaded with other requests. Please try again in a few minutes."
        case .invalidTimestamp: "Timestamp for this request is outside of the recvWindow."
        case .invalidSignature: "Signature for this request is not valid."
        case .illegalChars: "Illegal characters found in a parameter."
        case .mandatoryParamMissing: "Mandatory parameter was not sent, was empty/null, or malformed."
        case .parameterNotRequired: "Parameter 'reduceonly' sent when not required."
        case .badPrecision: "Precision is over the maximum defined for this asset."
        case .invalidOrderType: "Invalid orderType."
        case .invalidSide: "Invalid side."
        case .badSymbol: "Invalid symbol."
        case .invalidListenKey: "This listenKey does not exist."
        case .invalidParameter: "Invalid data sent for a parameter."
        case .cancelRejected: "Unknown order sent."
        case .noSuchOrder: "Order does not exist."
        case .badAPIKeyFormat: "API-key format invalid."
        case .rejectedMBXKey: "Invalid API-key, IP, or permissions for action."
        case .marginInsufficient: "Margin is insufficient."
        case .wouldImmediatelyTrigger: "Order would immediately trigger."
        case .reduceOnlyRejected: "ReduceOnly Order is rejected."
        case .quantityOutOfRange: "Quantity less than or equal to zero."
        case .priceNotOnTick: "Price not increased by tick size."
        case .clientOrderIdInvalid: "Client order id is not valid."
        case .quantityNotOnStep: "Quantity not increased by step size."
        case .maxStopOrders: "Reach max stop order limit."
        case .positionSideMismatch: "Order's position side does not match user's setting."
        case .duplicateClientOrderId: "ClientOrderId is duplicated."
        case .reduceOnlyMarginCheckFailed: "ReduceOnly Order Failed. Please check your existing position and open orders."
        case .useAlgoOrderAPI: "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead."
        case .closePositionWithQuantity: "Quantity cannot be sent with closePosition=true."
        case .notionalTooSmall: "Order's notional must be no smaller than 5 (unless you choose reduce only)."
        }
    }
}
