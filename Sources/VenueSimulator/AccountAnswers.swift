import Foundation

// Account answers the simulator serves for third-party clients (ccxt's balance and position
// calls); ExitBrain itself reads positions from `positionRisk`.

/// A row of `GET /fapi/v1/leverageBracket`.
struct LeverageBrackets: Encodable {
    struct Bracket: Encodable {
        var bracket = 1
        var initialLeverage = 125
        var notionalCap = 50000
        var notionalFloor = 0
        var maintMarginRatio = 0.004
        var cum = 0.0
    }
    var symbol: String
    var brackets = [Bracket()]
}

/// A row of `GET /fapi/v1/symbolConfig`.
struct SymbolConfigRow: Encodable {
    var symbol: String
    var marginType: String
    var isAutoAddMargin: Bool
    var leverage: Int
    var maxNotionalValue: String
}

/// A row of `GET /fapi/v2/balance`: a paper wallet of 100 000 USDT.
struct AccountBalance: Encodable {
    var accountAlias = "SimAccount"
    var asset = "USDT"
    var balance = "100000.00000000"
    var crossWalletBalance = "100000.00000000"
    var crossUnPnl = "0.00000000"
    var availableBalance = "100000.00000000"
    var maxWithdrawAmount = "100000.00000000"
    var marginAvailable = true
    var updateTime: Int64 = 0
}

/// An asset of `GET /fapi/v2/account`.
struct AccountAsset: Encodable {
    var asset = "USDT"
    var walletBalance = "100000.00000000"
    var unrealizedProfit = "0.00000000"
    var marginBalance = "100000.00000000"
    var maintMargin = "0.00000000"
    var initialMargin = "0.00000000"
    var positionInitialMargin = "0.00000000"
    var openOrderInitialMargin = "0.00000000"
    var crossWalletBalance = "100000.00000000"
    var crossUnPnl = "0.00000000"
    var availableBalance = "100000.00000000"
    var maxWithdrawAmount = "100000.00000000"
    var marginAvailable = true
    var updateTime: Int64 = 0
}

/// A position of `GET /fapi/v2/account`.
struct AccountPosition: Encodable {
    var symbol: String
    var positionSide: String
    var positionAmt: String
    var entryPrice: String
    var updateTime: Int64
    var initialMargin = "0"
    var maintMargin = "0"
    var unrealizedProfit = "0.00000000"
    var positionInitialMargin = "0"
    var openOrderInitialMargin = "0"
    var leverage = "20"
    var isolated = false
    var maxNotional = "1000000"
    var notional = "0"
    var isolatedWallet = "0"
}

/// `GET /fapi/v2/account`.
struct AccountAnswer: Encodable {
    var feeTier = 0
    var canTrade = true
    var canDeposit = true
    var canWithdraw = true
    var updateTime: Int64 = 0
    var multiAssetsMargin = false
    var totalInitialMargin = "0.00000000"
    var totalMaintMargin = "0.00000000"
    var totalWalletBalance = "100000.00000000"
    var totalUnrealizedProfit = "0.00000000"
    var totalMarginBalance = "100000.00000000"
    var totalPositionInitialMargin = "0.00000000"
    var totalOpenOrderInitialMargin = "0.00000000"
    var totalCrossWalletBalance = "100000.00000000"
    var totalCrossUnPnl = "0.00000000"
    var availableBalance = "100000.00000000"
    var maxWithdrawAmount = "100000.00000000"
    var assets: [AccountAsset]
    var positions: [AccountPosition]
}
