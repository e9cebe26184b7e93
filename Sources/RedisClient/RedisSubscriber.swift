import CHiredis
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One message received on a subscribed channel or pattern.
public struct RedisPubSubMessage: Sendable, Equatable {
    /// The channel it was published on.
    public let channel: String
    /// The pattern that matched, for PSUBSCRIBE deliveries.
    public let pattern: String?
    /// The message body, byte for byte.
    public let payload: [UInt8]
}

/// A subscriber on its own connection and its own reading thread.
///
/// It delivers messages in the order the server sent them through `messages`. When the
/// connection drops it reconnects with capped exponential backoff and subscribes again to
/// everything it was subscribed to. The connection has no read timeout (an idle bus is normal);
/// `close()` shuts the socket down to wake the reading thread, which then frees the context.
public final class RedisSubscriber: Sendable {
    /// What the subscriber is doing now.
    public struct Status: Sendable, Equatable {
        /// True while subscribed to everything asked for.
        public var subscribed: Bool
        /// How many times the subscriptions were (re-)established.
        public var generation: Int
        /// The last connection error, while not subscribed.
        public var lastError: RedisError?
        /// Messages dropped because the consumer fell more than the buffer behind.
        public var dropped: Int
        /// Messages delivered.
        public var delivered: Int
    }

    private struct State {
        var channels: Set<String>
        var patterns: Set<String>
        var fd: Int32 = -1
        var pendingAcks = 0
        var started = false
        var stopping = false
        var status = Status(subscribed: false, generation: 0, lastError: nil, dropped: 0, delivered: 0)
    }

    /// The configuration of the connection.
    public let configuration: RedisConfiguration
    /// Every message, in order. Ends after `close()`.
    public let messages: AsyncStream<RedisPubSubMessage>
    private let continuation: AsyncStream<RedisPubSubMessage>.Continuation
    private let state: Mutex<State>
    private let sleeper = NSCondition()

    /// A subscriber for these channels and patterns; `start()` connects.
    public init(configuration: RedisConfiguration, channels: [String] = [], patterns: [String] = [], bufferLimit: Int = 100_000) {
        self.configuration = configuration
        (messages, continuation) = AsyncStream.makeStream(of: RedisPubSubMessage.self, bufferingPolicy: .bufferingOldest(bufferLimit))
        state = Mutex(State(channels: Set(channels), patterns: Set(patterns)))
    }

    deinit { close() }

    /// Starts the reading thread (once).
    public func start() {
        let first = state.withLock { s -> Bool in
            defer { s.started = true }
            return !s.started
        }
        guard first else { return }
        RedisSignals.ignoreSIGPIPE()
        if !configuration.sentinels.isEmpty {
            // A sentinel's +switch-master: leave the old primary now and resubscribe on the new one.
            _ = SentinelWatch.shared(for: configuration).listen { [weak self] in self?.reconnect() }
        }
        let thread = Thread { [self] in run() }
        thread.name = "redis-subscriber"
        thread.start()
    }

    /// The current status.
    public var status: Status { state.withLock { $0.status } }

    /// Waits until every subscription is acknowledged, or the timeout passes.
    public func waitUntilSubscribed(timeout: Duration = .seconds(5)) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if state.withLock({ $0.status.subscribed }) { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return state.withLock { $0.status.subscribed }
    }

    /// Adds channels and patterns; they are kept across reconnects.
    public func subscribe(channels: [String] = [], patterns: [String] = []) {
        state.withLock { s in
            let newChannels = channels.filter { !s.channels.contains($0) }
            let newPatterns = patterns.filter { !s.patterns.contains($0) }
            s.channels.formUnion(newChannels)
            s.patterns.formUnion(newPatterns)
            guard s.fd >= 0 else { return }
            var ok = true
            if !newChannels.isEmpty { ok = ok && Self.write(RedisCommand(["SUBSCRIBE"] + newChannels), to: s.fd) }
            if !newPatterns.isEmpty { ok = ok && Self.write(RedisCommand(["PSUBSCRIBE"] + newPatterns), to: s.fd) }
            if ok {
                s.pendingAcks += newChannels.count + newPatterns.count
                if s.pendingAcks > 0 { s.status.subscribed = false }
            }
            // A failed write means the connection is going down: the reader resubscribes all.
        }
    }

    /// Drops the connection; the reading thread connects again (asking the sentinels, with
    /// them) and resubscribes everything.
    public func reconnect() {
        state.withLock { s in
            if s.fd >= 0 { _ = shutdown(s.fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Stops the reading thread and ends `messages`.
    public func close() {
        state.withLock { s in
            s.stopping = true
            if s.fd >= 0 { _ = shutdown(s.fd, Int32(SHUT_RDWR)) }
        }
        sleeper.lock()
        sleeper.broadcast()
        sleeper.unlock()
        if !state.withLock({ $0.started }) { continuation.finish() }
    }

    // MARK: - reading thread

    private func run() {
        var backoff = configuration.reconnectInitialMilliseconds
        while !state.withLock({ $0.stopping }) {
            let context: RedisContext
            do {
                context =
                    configuration.sentinels.isEmpty
                    ? try RedisContext(configuration: configuration, commandTimeout: false)
                    : try SentinelResolver.connectPrimary(configuration, commandTimeout: false)
            } catch {
                state.withLock { $0.status.lastError = error }
                sleep(milliseconds: backoff)
                backoff = min(backoff * 2, configuration.reconnectMaxMilliseconds)
                continue
            }
            do {
                try subscribeAll(on: context)
                while true {
                    let reply = try context.readReply()
                    if handle(reply) { backoff = configuration.reconnectInitialMilliseconds }
                }
            } catch {
                let stopping = state.withLock { s -> Bool in
                    s.fd = -1
                    s.status.subscribed = false
                    if !s.stopping { s.status.lastError = error }
                    return s.stopping
                }
                context.close()
                if stopping { break }
                sleep(milliseconds: backoff)
                backoff = min(backoff * 2, configuration.reconnectMaxMilliseconds)
            }
        }
        continuation.finish()
    }

    /// Sends SUBSCRIBE/PSUBSCRIBE for everything, under the lock so `subscribe` cannot interleave.
    private func subscribeAll(on context: RedisContext) throws(RedisError) {
        try state.withLock { (s) throws(RedisError) in
            if s.stopping { throw RedisError(.closed, "subscriber closed") }
            let channels = s.channels.sorted()
            let patterns = s.patterns.sorted()
            if !channels.isEmpty { try context.append(RedisCommand(["SUBSCRIBE"] + channels)) }
            if !patterns.isEmpty { try context.append(RedisCommand(["PSUBSCRIBE"] + patterns)) }
            try context.flush()
            s.fd = context.fileDescriptor
            s.pendingAcks = channels.count + patterns.count
            if s.pendingAcks == 0 {
                s.status.subscribed = true
                s.status.generation += 1
                s.status.lastError = nil
            }
        }
    }

    /// Delivers a message or counts an acknowledgement; true when the subscriptions became complete.
    private func handle(_ reply: RedisReply) -> Bool {
        guard case .array(let parts) = reply, let kind = parts.first?.string else { return false }
        switch kind {
        case "message" where parts.count == 3:
            deliver(RedisPubSubMessage(channel: parts[1].string ?? "", pattern: nil, payload: parts[2].bytes ?? []))
        case "pmessage" where parts.count == 4:
            deliver(RedisPubSubMessage(channel: parts[2].string ?? "", pattern: parts[1].string, payload: parts[3].bytes ?? []))
        case "subscribe", "psubscribe":
            return state.withLock { s -> Bool in
                s.pendingAcks = max(0, s.pendingAcks - 1)
                guard s.pendingAcks == 0, !s.status.subscribed else { return false }
                s.status.subscribed = true
                s.status.generation += 1
                s.status.lastError = nil
                return true
            }
        default:
            break
        }
        return false
    }

    private func deliver(_ message: RedisPubSubMessage) {
        let result = continuation.yield(message)
        state.withLock { s in
            if case .dropped = result { s.status.dropped += 1 } else { s.status.delivered += 1 }
        }
    }

    private func sleep(milliseconds: Int) {
        sleeper.lock()
        defer { sleeper.unlock() }
        if state.withLock({ $0.stopping }) { return }
        _ = sleeper.wait(until: Date().addingTimeInterval(Double(milliseconds) / 1000))
    }

    private static func write(_ command: RedisCommand, to fd: Int32) -> Bool {
        var formatted: UnsafeMutablePointer<CChar>?
        let len: Int32 = command.arguments.withArgv { argc, argv, lens in
            redisFormatCommandArgv(&formatted, argc, argv, lens)
        }
        guard len > 0, let buffer = formatted else { return false }
        defer { redisFreeCommand(buffer) }
        var offset = 0
        while offset < Int(len) {
            let n = Glibc.write(fd, buffer + offset, Int(len) - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }
}
