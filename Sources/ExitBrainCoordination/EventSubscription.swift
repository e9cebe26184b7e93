import ExitBrainDomain
import Foundation
import Logging
import Metrics
import RedisClient
import Synchronization

/// A validated stream of inbound events on the service's own subscriber connection.
///
/// Every message is checked (size first, then JSON, envelope and data); a bad one is logged
/// once with its reason, counted in `exitbrain_events_rejected_total{reason}`, answered with
/// `event.rejected`, and changes nothing. The subscription also carries the service's ping
/// channel, which times the event-bus round trip for health.
public final class EventSubscription: Sendable {
    private struct State {
        var rejected: [String: Int] = [:]
        var pings: [String: ContinuousClock.Instant] = [:]
        var lastMessage: ContinuousClock.Instant?
        var pump: Task<Void, Never>?
    }

    /// The subscriber underneath (status, resubscriptions).
    public let subscriber: RedisSubscriber
    /// Valid events, in order.
    public let events: AsyncStream<InboundEvent>
    private let continuation: AsyncStream<InboundEvent>.Continuation
    private let namespace: Namespace
    private let pingChannel: String
    private let bus: EventBus
    private let logger: Logger
    private let state = Mutex(State())
    private let clock = ContinuousClock()

    /// Subscribes to the channels of `types` and to `pingChannel`; `start()` connects.
    public init(configuration: RedisConfiguration, namespace: Namespace, types: [EventType], pingChannel: String, bus: EventBus, logger: Logger) {
        self.namespace = namespace
        self.pingChannel = pingChannel
        self.bus = bus
        self.logger = logger
        subscriber = RedisSubscriber(configuration: configuration, channels: types.map(namespace.channel) + [pingChannel])
        (events, continuation) = AsyncStream.makeStream(of: InboundEvent.self, bufferingPolicy: .bufferingOldest(100_000))
        // The rejection counter's series exist from the start, at zero.
        for reason in RejectionReason.allCases {
            _ = Counter(label: "exitbrain_events_rejected_total", dimensions: [("reason", reason.rawValue)])
        }
    }

    /// Connects and starts validating into `events`. With `pumping` false, the caller consumes
    /// with `run(_:)` instead (one hand-off less per message).
    public func start(pumping: Bool = true) {
        subscriber.start()
        guard pumping else { return }
        let task = Task { [self] in await pump { continuation.yield($0) } }
        state.withLock { $0.pump = task }
    }

    /// Validates every message and hands each good one to `handle`, in order, in the calling
    /// task, until the subscription is closed (for a subscription started with `pumping: false`).
    public func run(_ handle: (InboundEvent) async -> Void) async {
        await pump(handle)
    }

    /// Closes the subscriber and ends `events`.
    public func close() {
        subscriber.close()
        state.withLock { $0.pump }?.cancel()
        continuation.finish()
    }

    /// Rejections so far, by reason.
    public var rejectedCounts: [String: Int] { state.withLock { $0.rejected } }

    /// Seconds since the last message of any kind arrived, if one has.
    public var lastMessageAge: Double? {
        state.withLock { $0.lastMessage }.map { (clock.now - $0).secondsValue }
    }

    /// Publishes a nonce on the ping channel and waits for this subscriber to receive it.
    /// Returns the round trip, or nil when it did not come back within `timeout`.
    public func roundTrip(timeout: Duration = .seconds(1)) async -> Duration? {
        let nonce = UUID().uuidString
        let sent = clock.now
        state.withLock { $0.pings[nonce] = sent }
        defer { state.withLock { _ = $0.pings.removeValue(forKey: nonce) } }
        do {
            _ = try await bus.redis.send(RedisCommand(["PUBLISH", pingChannel, "ping:" + nonce]))
        } catch {
            return nil
        }
        let deadline = sent + timeout
        while clock.now < deadline {
            if let arrived = state.withLock({ $0.pings[nonce] }), arrived != sent { return arrived - sent }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return nil
    }

    private func pump(_ handle: (InboundEvent) async -> Void) async {
        for await message in subscriber.messages {
            let now = clock.now
            state.withLock { $0.lastMessage = now }
            if message.channel == pingChannel {
                let nonce = String(decoding: message.payload.dropFirst(5), as: UTF8.self)
                state.withLock { s in
                    if s.pings[nonce] != nil { s.pings[nonce] = now }
                }
                continue
            }
            guard let typeName = namespace.eventType(ofChannel: message.channel), let type = EventType(rawValue: typeName) else { continue }
            switch InboundEvent.decode(type: type, payload: message.payload) {
            case .success(let event):
                await handle(event)
            case .failure(let rejection):
                await reject(rejection, channel: message.channel, payload: message.payload)
            }
        }
        continuation.finish()
    }

    /// Logs, counts and answers one rejected message. Also used by services for messages that
    /// pass validation but are refused by a later rule (no price for the symbol, …).
    public func reject(_ rejection: EventRejection, channel: String, payload: [UInt8]) async {
        state.withLock { $0.rejected[rejection.reason.rawValue, default: 0] += 1 }
        Counter(label: "exitbrain_events_rejected_total", dimensions: [("reason", rejection.reason.rawValue)]).increment()
        logger.warning(
            "event rejected",
            metadata: [
                "channel": "\(channel)", "reason": "\(rejection.reason.rawValue)", "detail": "\(rejection.message)",
            ])
        let head = String(decoding: payload.prefix(256), as: UTF8.self)
        let answer = EventRejectedEvent(channel: channel, reason: rejection.reason.rawValue, detail: rejection.message, message: head)
        do {
            try await bus.publish(.eventRejected, answer)
        } catch {
            logger.debug("could not publish event.rejected", metadata: ["error": "\(error)"])
        }
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    public var secondsValue: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
