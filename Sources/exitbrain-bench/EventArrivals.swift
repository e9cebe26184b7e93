import ExitBrainCoordination
import Foundation
import RedisClient

/// An outside subscriber to one event channel that notes when each symbol's first event
/// arrived: the symbol is the event's `symbol` field, or its `key` (`SYMBOL:SIDE`) up to the colon.
final class EventArrivals: Sendable {
    let inbox = Inbox()
    private let subscriber: RedisSubscriber
    private let reader: Task<Void, Never>

    init(config: RedisConfiguration, channel: String, field: String) async {
        subscriber = RedisSubscriber(configuration: config, channels: [channel])
        subscriber.start()
        _ = await subscriber.waitUntilSubscribed()
        let (subscriber, inbox) = (subscriber, inbox)
        let marker = "\"\(field)\":\""
        let clock = ContinuousClock()
        reader = Task {
            for await m in subscriber.messages {
                let text = String(decoding: m.payload, as: UTF8.self)
                guard let r = text.range(of: marker) else { continue }
                let rest = text[r.upperBound...]
                guard let end = rest.firstIndex(where: { $0 == "\"" || $0 == ":" }) else { continue }
                await inbox.add(String(rest[..<end]), at: clock.now)
            }
        }
    }

    /// When `symbol`'s first event arrived, waiting up to `timeout` for it.
    func wait(for symbol: String, timeout: Duration) async -> ContinuousClock.Instant? { await inbox.wait(for: symbol, timeout: timeout) }

    func close() {
        reader.cancel()
        subscriber.close()
    }
}

/// The time each symbol's first event arrived.
actor Inbox {
    private var arrived: [String: ContinuousClock.Instant] = [:]

    func add(_ symbol: String, at: ContinuousClock.Instant) {
        if arrived[symbol] == nil { arrived[symbol] = at }
    }

    func wait(for symbol: String, timeout: Duration) async -> ContinuousClock.Instant? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let at = arrived[symbol] { return at }
            try? await Task.sleep(for: .microseconds(20))
        }
        return arrived[symbol]
    }
}
