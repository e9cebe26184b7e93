import Foundation
import Metrics
import RedisClient
import Synchronization

/// What a ``ChangeFeed`` tells: which book fields changed, and when events may have been lost.
public protocol ChangeListener: Sendable {
    /// A plan field (`SYMBOL:SIDE`) changed (from a plan event).
    func noteChange(plan field: String) async
    /// A position field changed (from a position event).
    func noteChange(position field: String) async
    /// Events may have been missed: the next read must read everything.
    func noteLostEvents() async
    /// Whether a feed is attached (a listener without one reads everything every time).
    func attachChangeFeed(_ attached: Bool) async
}

/// Tells a listener (the monitor's reconciler) which plans and positions changed, from the
/// plan and position events on the bus, so that a steady pass reads only those. Whenever events
/// may have been lost (not subscribed yet, a reconnect, a dropped message, an event it cannot
/// read), the listener is told to read everything on its next pass.
public final class ChangeFeed: Sendable {
    private let subscriber: RedisSubscriber
    private let reconciler: any ChangeListener
    private let namespace: Namespace
    private let seen = Mutex<(generation: Int, dropped: Int)?>(nil)
    private let started = Mutex(false)

    /// A feed for `reconciler` over the bus of `namespace`.
    public init(configuration: RedisConfiguration, namespace: Namespace, reconciler: any ChangeListener) {
        self.namespace = namespace
        self.reconciler = reconciler
        subscriber = RedisSubscriber(
            configuration: configuration,
            channels: [
                namespace.channel(.planCreated), namespace.channel(.planUpdated), namespace.channel(.planClosed), namespace.channel(.positionUpdated),
            ])
    }

    /// Subscribes (on the subscriber's own thread) and tells the reconciler a feed is attached.
    public func start() async {
        guard
            started.withLock({ was in
                defer { was = true }
                return !was
            })
        else { return }
        await reconciler.attachChangeFeed(true)
        subscriber.start()
    }

    /// Forwards changes until the feed is closed (starting it first if needed).
    public func run() async {
        if !started.withLock({ $0 }) { await start() }
        for await message in subscriber.messages {
            await forward(message)
        }
        await reconciler.attachChangeFeed(false)
    }

    /// Call before each pass: tells the reconciler to read everything if events may have been lost.
    public func checkIntact() async {
        let status = subscriber.status
        let now = (status.generation, status.dropped)
        let intact = seen.withLock { last -> Bool in
            defer { last = now }
            return status.subscribed && last.map { $0 == now } ?? false
        }
        if !intact { await reconciler.noteLostEvents() }
    }

    /// Waits until subscribed (tests and benchmarks).
    public func waitUntilSubscribed() async -> Bool { await subscriber.waitUntilSubscribed() }

    /// Stops the feed.
    public func close() { subscriber.close() }

    private func forward(_ message: RedisPubSubMessage) async {
        let payload = message.payload
        if message.channel == namespace.channel(.planUpdated) || message.channel == namespace.channel(.planClosed) {
            if let key = Self.value(of: "key", in: payload) {
                await reconciler.noteChange(plan: key)
                return
            }
        } else if let symbol = Self.value(of: "symbol", in: payload), let side = Self.value(of: "side", in: payload) {
            // exit_plan.created carries the plan, position.updated the snapshot: the first symbol
            // and side of the envelope are theirs.
            if message.channel == namespace.channel(.planCreated) {
                await reconciler.noteChange(plan: "\(symbol):\(side)")
            } else {
                await reconciler.noteChange(position: "\(symbol):\(side)")
            }
            return
        }
        // Not one of ours, or not readable: counted, and the next pass reads everything.
        Counter(.eventsRejected, dimensions: [("reason", RejectionReason.invalidEnvelope.rawValue)]).increment()
        await reconciler.noteLostEvents()
    }

    /// The first `"name":"value"` string value in a JSON text, without escapes.
    static func value(of name: String, in bytes: [UInt8]) -> String? {
        let needle = Array("\"\(name)\":\"".utf8)
        guard needle.count <= bytes.count else { return nil }
        var i = 0
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == needle[0], bytes[i..<(i + needle.count)].elementsEqual(needle) {
                let start = i + needle.count
                guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "\"")), end > start else { return nil }
                let value = bytes[start..<end]
                guard !value.contains(UInt8(ascii: "\\")) else { return nil }
                return String(decoding: value, as: UTF8.self)
            }
            i += 1
        }
        return nil
    }
}
