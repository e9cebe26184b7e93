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
        var pings: [String: (sent: ContinuousClock.Instant, waiter: CheckedContinuation<Duration?, Never>)] = [:]
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
            _ = Counter(.eventsRejected, dimensions: [("reason", reason.rawValue)])
        }
    }

    /// Connects and starts validating into `events`. With `pumping` false, the caller consumes
    /// with `runInBatches(of:backlog:_:)` instead.
    public func start(pumping: Bool = true) {
        subscriber.start()
        guard pumping else { return }
        let task = Task { [self] in await pump { continuation.yield($0) } }
        state.withLock { $0.pump = task }
    }

    /// Validates every message and hands the good ones to `handle`, in order, in the calling task,
    /// until the subscription is closed (for a subscription started with `pumping: false`): what
    /// arrived while `handle` was busy comes to it as one batch (at most `batch` events).
    /// Validating goes on meanwhile in a task of its own, up to `backlog` events ahead.
    public func runInBatches(of batch: Int, backlog: Int = 10_000, _ handle: ([InboundEvent]) async -> Void) async {
        await Backlog.drain(limit: backlog, batch: batch, feed: { queue in await self.pump { await queue.push($0) } }, handle)
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
        let nonce = RandomUUID.string()
        return await withCheckedContinuation { (waiter: CheckedContinuation<Duration?, Never>) in
            // Registered before the ping is sent: the subscriber may receive it before PUBLISH returns.
            state.withLock { $0.pings[nonce] = (clock.now, waiter) }
            Task {
                do {
                    _ = try await bus.publish(ping: pingChannel, "ping:" + nonce)
                } catch {
                    answerPing(nonce, with: nil)
                    return
                }
                try? await Task.sleep(for: timeout)
                answerPing(nonce, with: nil)
            }
        }
    }

    /// Resumes the waiter of `nonce`, once: with the round trip when the ping arrived, nil otherwise.
    private func answerPing(_ nonce: String, with arrival: ContinuousClock.Instant?) {
        guard let pending = state.withLock({ $0.pings.removeValue(forKey: nonce) }) else { return }
        pending.waiter.resume(returning: arrival.map { $0 - pending.sent })
    }

    private func pump(_ handle: (InboundEvent) async -> Void) async {
        for await message in subscriber.messages {
            let now = clock.now
            state.withLock { $0.lastMessage = now }
            if message.channel == pingChannel {
                answerPing(String(decoding: message.payload.dropFirst(5), as: UTF8.self), with: now)
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
        Counter(.eventsRejected, dimensions: [("reason", rejection.reason.rawValue)]).increment()
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
