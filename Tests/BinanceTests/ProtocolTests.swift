import BinanceProtocol
import Foundation
import Testing
import Venue

@Suite("Binance protocol pieces")
struct ProtocolTests {
    @Test func theSignatureMatchesBinancesDocumentedExample() {
        let signer = RequestSigner(secret: "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j")
        let payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        let signature = signer.signature(of: payload)
        #expect(signature == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")
        #expect(signer.verifies(signature, of: payload))
        #expect(!signer.verifies(signature, of: payload + "0"), "a changed payload fails")
        #expect(!signer.verifies("zz", of: payload), "not hex")
    }

    @Test func queryStringsEncodeParseAndLoseTheirSignature() {
        var query = QueryString()
        query.append("symbol", "BTCUSDT")
        query.append("clientAlgoId", "eb-ab:c/d.e_f")
        query.append("note", "a b&c=d")
        let text = query.description
        #expect(text == "symbol=BTCUSDT&clientAlgoId=eb-ab%3Ac%2Fd.e_f&note=a%20b%26c%3Dd")
        #expect(QueryString(parsing: text) == query, "parsing gives the pairs back")
        #expect(QueryString(parsing: "a=1+2")["a"] == "1 2", "a form's + is a space")
        let split = QueryString.splitSignature(text + "&signature=abc")
        #expect(split.payload == text && split.signature == "abc")
        #expect(QueryString.splitSignature("").signature == nil)
    }

    @Test func streamMessagesDecodeRawOrWrapped() throws {
        let raw =
            #"{"e":"ALGO_UPDATE","T":1,"E":2,"o":{"caid":"eb-x-3-1","aid":7,"at":"CONDITIONAL","o":"STOP_MARKET","s":"BTCUSDT","S":"SELL","ps":"LONG","q":"0.010","X":"NEW","ai":"","ap":"0","aq":"0","tp":"48750.0","wt":"MARK_PRICE","R":false}}"#
        guard case .algo(let algo) = try StreamMessage.decode(Array(raw.utf8)) else {
            Issue.record("not an algo update")
            return
        }
        #expect(algo.o.caid == "eb-x-3-1" && algo.o.tp == "48750.0")
        let wrapped =
            #"{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":5,"s":"BTCUSDT","p":"50100.10","i":"1","P":"1","r":"0","T":9}}"#
        guard case .markPrice(let mark) = try StreamMessage.decode(Array(wrapped.utf8)) else {
            Issue.record("not a mark price")
            return
        }
        #expect(mark.p == "50100.10")
        guard case .other(let name) = try StreamMessage.decode(Array(#"{"e":"TRADE_LITE","E":1}"#.utf8)) else {
            Issue.record("an unused event is passed as other")
            return
        }
        #expect(name == "TRADE_LITE")
        #expect(throws: (any Error).self) { try StreamMessage.decode(Array(#"{"result":null,"id":1}"#.utf8)) }
        #expect(throws: (any Error).self) { try StreamMessage.decode(Array("not json".utf8)) }
    }

    @Test func exchangeInfoFiltersBecomeRulesWithTheIncrementsOwnDecimals() throws {
        let symbol = ExchangeSymbol(
            symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", pricePrecision: 2, quantityPrecision: 3,
            filters: [
                SymbolFilter(filterType: "PRICE_FILTER", tickSize: "0.10", minPrice: "0.10", maxPrice: "1000000"),
                SymbolFilter(filterType: "LOT_SIZE", stepSize: "0.00100000", minQty: "0.001", maxQty: "1000"),
                SymbolFilter(filterType: "MARKET_LOT_SIZE", stepSize: "0.01", minQty: "0.001", maxQty: "120"),
                SymbolFilter(filterType: "MIN_NOTIONAL", notional: "100"),
            ], orderTypes: ["MARKET"])
        let rules = try #require(symbol.rules)
        #expect(rules.tickSize.decimalPlaces == 1 && rules.stepSize.decimalPlaces == 3, "padding is not precision")
        #expect(rules.marketStepSize == Decimal(string: "0.01"))
        #expect(rules.minNotional == 100)
        #expect(rules.priceText(Decimal(string: "48750.04")!) == "48750.0")
        var broken = symbol
        broken.filters.removeAll { $0.filterType == "LOT_SIZE" }
        #expect(broken.rules == nil, "a symbol without LOT_SIZE has no rules (it is not traded)")
    }

    @Test func wireDecimalsReadStringsAndNumbersAndWriteStrings() throws {
        struct Box: Codable { var v: WireDecimal }
        let a = try JSONDecoder().decode(Box.self, from: Data(#"{"v":"0.010"}"#.utf8))
        #expect(a.v.value == Decimal(string: "0.01") && a.v.text == "0.010")
        let b = try JSONDecoder().decode(Box.self, from: Data(#"{"v":12.5}"#.utf8))
        #expect(b.v.value == Decimal(string: "12.5"))
        #expect(String(decoding: try JSONEncoder().encode(a), as: UTF8.self) == #"{"v":"0.010"}"#)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Box.self, from: Data(#"{"v":"abc"}"#.utf8)) }
    }
}
