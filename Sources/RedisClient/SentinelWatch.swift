import Foundation
import Synchronization

/// `+switch-master` from every sentinel, as a hint that the primary changed (Redis's "Sentinel
/// clients" guidelines): each sentinel of a primary's list is subscribed to once per process,
/// and a switch of that primary moves its generation on. A connection whose primary was named
/// under an older generation drops it before its next command and asks the sentinels again;
/// subscribers are disconnected and resubscribe on the new primary. The mechanism is still
/// `ROLE` and the error replies: a missed message only delays a switch until those see it.
public final class SentinelWatch: Sendable {
    /// The primary's name.
    public let master: String
    private let subscribers: [RedisSubscriber]
    private let state = Mutex(State())

    private struct State {
        var generation = 0
        var lastSwitch: String?
        var listeners: [UUID: @Sendable () -> Void] = [:]
    }

    private static let watches = Mutex<[String: SentinelWatch]>([:])

    /// The process's watch of the primary `configuration` names through its sentinels, started on first use.
    public static func shared(for configuration: RedisConfiguration) -> SentinelWatch {
        let key = configuration.sentinelMaster + "@" + configuration.sentinels.map(\.description).sorted().joined(separator: ",")
        let (watch, created) = watches.withLock { all -> (SentinelWatch, Bool) in
            if let known = all[key] { return (known, false) }
            let watch = SentinelWatch(configuration)
            all[key] = watch
            return (watch, true)
        }
        if created { watch.start() }
        return watch
    }

    private init(_ configuration: RedisConfiguration) {
        master = configuration.sentinelMaster
        subscribers = configuration.sentinels.map { sentinel in
            // A sentinel that is down is tried again at most once a second.
            var direct = configuration.sentinel(sentinel)
            direct.reconnectMaxMilliseconds = max(direct.reconnectMaxMilliseconds, 1000)
            return RedisSubscriber(configuration: direct, channels: ["+switch-master"], bufferLimit: 100)
        }
    }

    private func start() {
        for subscriber in subscribers {
            subscriber.start()
            Task.detached { [self] in
                for await message in subscriber.messages { noted(message.payload) }
            }
        }
    }

    /// The generation of the primary: it moves on at each `+switch-master` for it.
    public var generation: Int { state.withLock { $0.generation } }

    /// The last switch announced, as the sentinels wrote it (`name old-ip old-port new-ip new-port`).
    public var lastSwitch: String? { state.withLock { $0.lastSwitch } }

    /// Calls `action` at every switch of the primary until the returned token is passed to `stopListening`.
    public func listen(_ action: @escaping @Sendable () -> Void) -> UUID {
        let id = UUID()
        state.withLock { $0.listeners[id] = action }
        return id
    }

    /// Stops a listener.
    public func stopListening(_ id: UUID) {
        _ = state.withLock { $0.listeners.removeValue(forKey: id) }
    }

    /// A `+switch-master` payload: the generation moves on when it names this primary (several
    /// sentinels announce the same switch: one move per new address).
    func noted(_ payload: [UInt8]) {
        let text = String(decoding: payload, as: UTF8.self)
        let parts = text.split(separator: " ")
        guard parts.count == 5, parts[0] == master else { return }
        let listeners = state.withLock { s -> [@Sendable () -> Void] in
            let announced = parts[3...4].joined(separator: ":")
            guard s.lastSwitch.map({ $0.split(separator: " ")[3...4].joined(separator: ":") != announced }) ?? true else { return [] }
            s.lastSwitch = text
            s.generation += 1
            return Array(s.listeners.values)
        }
        for action in listeners { action() }
    }

    deinit { for subscriber in subscribers { subscriber.close() } }
}
