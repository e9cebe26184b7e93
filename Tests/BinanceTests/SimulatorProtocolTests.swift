import BinanceProtocol
import Foundation
import Support
import Testing

/// The simulator answers as Binance does: signatures, clocks, modes, filters, endpoints.
@Suite("Venue simulator protocol")
struct SimulatorProtocolTests {
    static func code(_ body: String) -> Int? {
        (try? JSONDecoder().decode(ErrorBody.self, from: Data(body.utf8)))?.code
    }

    @Test func signaturesKeysAndClocksAreChecked() async throws {
        let sim = try await SimulatorHarness(hedge: false)
        defer { sim.stop() }
        let c = sim.control
        let ok = try await c.send(.GET, "/fapi/v2/positionRisk")
        #expect(ok.status == 200, "\(ok.body)")
        #expect(Self.code(try await c.send(.GET, "/fapi/v2/positionRisk", badSignature: true).body) == -1022)
        #expect(Self.code(try await c.send(.GET, "/fapi/v2/positionRisk", timestampOffsetMs: -6000).body) == -1021, "older than recvWindow")
        #expect(Self.code(try await c.send(.GET, "/fapi/v2/positionRisk", timestampOffsetMs: 2000).body) == -1021, "ahead of the server")
        let wrongKey = try await c.send(.GET, "/fapi/v2/positionRisk", key: "other")
        #expect(wrongKey.status == 401 && Self.code(wrongKey.body) == -2015)
        #expect(try await c.send(.GET, "/fapi/v1/time", signed: false).body.contains("serverTime"))
        // The query string is read for every method (Binance's own connector sends POST
        // parameters there), signed over query + body.
        let listen = try await c.send(.POST, "/fapi/v1/listenKey", signed: false)
        #expect(listen.body.contains("listenKey"))
        #expect(Self.code(try await c.send(.PUT, "/fapi/v1/listenKey", [("listenKey", "dead")], signed: false).body) == -1125)
    }

    @Test func hedgeAndOneWayRulesAndFiltersAreBinances() async throws {
        let hedge = try await SimulatorHarness(hedge: true)
        defer { hedge.stop() }
        let h = hedge.control
        func order(_ extra: [(String, String)]) -> [(String, String)] { [("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET")] + extra }
        #expect(Self.code(try await h.send(.POST, "/fapi/v1/order", order([("quantity", "0.010")])).body) == -4061, "hedge wants positionSide")
        #expect(
            Self.code(
                try await h.send(.POST, "/fapi/v1/order", order([("quantity", "0.010"), ("positionSide", "LONG"), ("reduceOnly", "true")])).body)
                == -1106, "hedge refuses reduceOnly")
        #expect(Self.code(try await h.send(.POST, "/fapi/v1/order", order([("quantity", "0.0105"), ("positionSide", "LONG")])).body) == -1111)
        #expect(Self.code(try await h.send(.POST, "/fapi/v1/order", order([("quantity", "0.001"), ("positionSide", "LONG")])).body) == -4164)
        let filled = try await h.send(
            .POST, "/fapi/v1/order", order([("quantity", "0.010"), ("positionSide", "LONG"), ("newOrderRespType", "RESULT")]))
        let answer = try JSONDecoder().decode(OrderAnswer.self, from: Data(filled.body.utf8))
        #expect(answer.status == "FILLED" && answer.executedQty == "0.010" && answer.avgPrice == "50000.0")
        var stop: [(String, String)] = [("symbol", "BTCUSDT"), ("side", "SELL"), ("positionSide", "LONG"), ("type", "STOP_MARKET")]
        stop += [("quantity", "0.010"), ("triggerPrice", "49000.0")]
        #expect(Self.code(try await h.send(.POST, "/fapi/v1/order", stop).body) == -4120, "conditional types go to the algo API")
        #expect(Self.code(try await h.send(.POST, "/fapi/v1/algoOrder", stop + [("algoType", "CONDITIONAL")]).body) == nil)
        let crossed = stop.map { $0.0 == "triggerPrice" ? ("triggerPrice", "50100.0") : $0 } + [("algoType", "CONDITIONAL")]
        #expect(Self.code(try await h.send(.POST, "/fapi/v1/algoOrder", crossed).body) == -2021, "a stop already crossed")
        let offTick = stop.map { $0.0 == "triggerPrice" ? ("triggerPrice", "49000.05") : $0 } + [("algoType", "CONDITIONAL")]
        #expect([-1111, -4014].contains(Self.code(try await h.send(.POST, "/fapi/v1/algoOrder", offTick).body) ?? 0))
        let state = try await hedge.control.state()
        #expect(state.amount("BTCUSDT", "LONG") == Decimal(string: "0.01"))
        #expect(state.open_algo_orders.count == 1)

        let oneWay = try await SimulatorHarness(hedge: false)
        defer { oneWay.stop() }
        let o = oneWay.control
        #expect(Self.code(try await o.send(.POST, "/fapi/v1/order", order([("quantity", "0.010"), ("positionSide", "LONG")])).body) == -4061)
        #expect(
            Self.code(try await o.send(.POST, "/fapi/v1/order", order([("quantity", "0.010"), ("reduceOnly", "true")])).body) == -2022,
            "a reduce-only order with nothing to reduce")
        let weight = try await o.send(.GET, "/fapi/v1/exchangeInfo", signed: false)
        #expect(weight.body.contains(#""MAX_NUM_ALGO_ORDERS""#) && weight.body.contains(#""orderTypes""#))
    }
}
