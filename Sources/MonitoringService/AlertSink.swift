import ExitBrainCoordination
import Foundation
import Logging
import Metrics
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Sends alerts: published as `alert`, and POSTed to the webhook as `{"text": …}` from a bounded
/// queue with retries and backoff, so a failing webhook never stalls reconciliation. A condition
/// (code + key) is not sent again while it lasts, within the dedupe window.
public final class AlertSink: Sendable {
    private struct State {
        var lastSent: [String: ContinuousClock.Instant] = [:]
        var queue: [(id: UInt64, body: [UInt8])] = []
        var nextId: UInt64 = 0
        var delivered = 0
        var dropped = 0
        var sent: [AlertEvent] = []
    }

    private let bus: any EventPublishing
    private let webhook: URL?
    private let dedupe: Duration
    private let logger: Logger
    private let state = Mutex(State())
    private let capacity = 1000

    /// A sink.
    public init(bus: any EventPublishing, webhook: URL?, dedupe: Duration, logger: Logger) {
        self.bus = bus
        self.webhook = webhook
        self.dedupe = dedupe
        self.logger = logger
    }

    /// Alerts sent so far (for health and tests).
    public var sent: [AlertEvent] { state.withLock { $0.sent } }
    /// Webhook deliveries that succeeded.
    public var delivered: Int { state.withLock { $0.delivered } }

    /// Sends an alert unless the same condition was sent within the dedupe window.
    /// Returns true when it was sent.
    @discardableResult
    public func raise(_ alert: AlertEvent) async -> Bool {
        await raise([alert]).first ?? false
    }

    /// Sends several alerts, each unless its condition was sent within the dedupe window; the
    /// ones sent are published in one round trip. Returns, for each, whether it was sent.
    @discardableResult
    public func raise(_ alerts: [AlertEvent]) async -> [Bool] {
        let clock = ContinuousClock()
        var writes = bus.writes()
        var sent: [Bool] = []
        for alert in alerts {
            let id = "\(alert.code)|\(alert.key ?? "")"
            let fresh = state.withLock { s -> Bool in
                if let last = s.lastSent[id], clock.now - last < dedupe { return false }
                s.lastSent[id] = clock.now
                s.sent.append(alert)
                if s.sent.count > Self.remembered { s.sent.removeFirst(s.sent.count - Self.remembered) }
                if webhook != nil {
                    let text = "[\(alert.severity.uppercased())] \(alert.code)\(alert.key.map { " \($0)" } ?? ""): \(alert.message)"
                    let body = Array("{\"text\":".utf8) + Array(JSONText.quoted(text).utf8) + Array("}".utf8)
                    if s.queue.count >= capacity {
                        s.queue.removeFirst()
                        s.dropped += 1
                    }
                    s.nextId += 1
                    s.queue.append((s.nextId, body))
                }
                return true
            }
            sent.append(fresh)
            guard fresh else { continue }
            Counter(label: "exitbrain_alerts_total", dimensions: [("severity", alert.severity), ("code", alert.code)]).increment()
            let level: Logger.Level = alert.severity == "critical" ? .critical : alert.severity == "warning" ? .warning : .info
            logger.log(level: level, "alert", metadata: ["code": "\(alert.code)", "severity": "\(alert.severity)", "key": "\(alert.key ?? "")", "message": "\(alert.message)"])
            do { try writes.publish(.alert, alert, now: Date()) } catch { logger.debug("alert not encoded", metadata: ["error": "\(error)"]) }
        }
        if !writes.isEmpty {
            do { try await bus.commit(writes) } catch { logger.debug("alerts not published", metadata: ["error": "\(error)"]) }
        }
        return sent
    }

    /// How many sent alerts `sent` keeps (the newest).
    static let remembered = 1000

    /// Forgets a condition so that its next occurrence is sent again (it has cleared).
    public func clear(code: String, key: String?) {
        _ = state.withLock { $0.lastSent.removeValue(forKey: "\(code)|\(key ?? "")") }
    }

    /// Delivers queued webhook bodies until cancelled: one at a time, exponential backoff
    /// (0.5 s doubling to 30 s) after a failure, the failed body kept at the head.
    public func runDelivery() async {
        guard let webhook else { return }
        var backoff = 0.5
        while !Task.isCancelled {
            guard let item = state.withLock({ $0.queue.first }) else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            let status = await Self.postOnOwnThread(item.body, to: webhook)
            if let status, (200..<300).contains(status) {
                state.withLock { s in
                    // By identity: a full queue may have dropped this one while it was in flight.
                    s.queue.removeAll { $0.id == item.id }
                    s.delivered += 1
                }
                backoff = 0.5
            } else {
                logger.warning("alert webhook failed; retrying", metadata: ["status": "\(status.map(String.init) ?? "no answer")", "retry_in_s": "\(backoff)"])
                try? await Task.sleep(for: .milliseconds(Int(backoff * 1000)))
                backoff = min(backoff * 2, 30)
            }
        }
    }

    /// `post` on a thread of its own: a slow webhook (up to its 5 s timeouts) must not hold
    /// one of the few threads the services' tasks run on.
    static func postOnOwnThread(_ body: [UInt8], to url: URL) async -> Int? {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: post(body, to: url)) }
            thread.name = "alert-webhook"
            thread.start()
        }
    }

    /// A minimal HTTP/1.1 POST over a blocking socket with 5 s timeouts; returns the status code.
    static func post(_ body: [UInt8], to url: URL) -> Int? {
        guard let host = url.host else { return nil }
        let port = url.port ?? 80
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else { return nil }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else { return nil }
        let path = url.path.isEmpty ? "/" : url.path + (url.query.map { "?" + $0 } ?? "")
        let head = "POST \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let request = Array(head.utf8) + body
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return nil }
            sent += n
        }
        var response = [UInt8](repeating: 0, count: 1024)
        let n = recv(fd, &response, response.count, 0)
        guard n > 12 else { return nil }
        let line = String(decoding: response[0..<n], as: UTF8.self)
        let parts = line.split(separator: " ", maxSplits: 2)
        return parts.count >= 2 ? Int(parts[1]) : nil
    }
}
