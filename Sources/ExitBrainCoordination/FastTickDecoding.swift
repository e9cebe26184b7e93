import ExitBrainDomain

/// `market.tick` messages read without Foundation's JSONDecoder: ticks are the bus's busiest
/// messages (20 000 a second in the benchmark), and a tick is five envelope strings and two
/// data fields. Only a message the Codable path would take with the same values is taken here:
/// every envelope and data field once and no other, strings without escapes, the type
/// `market.tick`, a valid symbol, a finite price in (0, ``MarketTick/maximumPrice``]. Anything
/// else is left to the Codable path (nil), which accepts or rejects it in its own words.
enum FastTickDecoding {
    static func decode(_ payload: [UInt8]) -> (MarketTick, EnvelopeMeta)? {
        payload.withUnsafeBufferPointer { bytes in
            var s = JSONScanner(bytes)
            guard s.open("{") else { return nil }
            var id: String?
            var type: String?
            var source: String?
            var ts: String?
            var tick: MarketTick?
            var first = true
            loop: while true {
                switch s.next(&first) {
                case .end: break loop
                case .fail: return nil
                case .key(let key):
                    switch key {
                    case "id" where id == nil: id = s.string()
                    case "type" where type == nil: type = s.string()
                    case "source" where source == nil: source = s.string()
                    case "ts" where ts == nil: ts = s.string()
                    case "data" where tick == nil: tick = data(&s)
                    default: return nil
                    }
                    if s.failed { return nil }
                }
            }
            guard s.atEnd(), let id, let type, type == EventType.marketTick.rawValue, let source, let ts, let tick else { return nil }
            return (tick, EnvelopeMeta(id: id, type: type, source: source, ts: ts))
        }
    }

    private static func data(_ s: inout JSONScanner) -> MarketTick? {
        var symbol: String?
        var price: Double?
        var first = true
        guard s.open("{") else { return fail(&s) }
        while true {
            switch s.next(&first) {
            case .end:
                guard let symbol, let price else { return fail(&s) }
                return MarketTick(symbol: symbol, price: price)
            case .key("symbol") where symbol == nil:
                guard let valid = s.string().flatMap(StrictDecoding.symbol) else { return fail(&s) }
                symbol = valid
            case .key("price") where price == nil:
                guard let value = s.number(), value > 0, value <= MarketTick.maximumPrice else { return fail(&s) }
                price = value
            case .key, .fail:
                return fail(&s)
            }
        }
    }

    private static func fail(_ s: inout JSONScanner) -> MarketTick? {
        s.failed = true
        return nil
    }
}
