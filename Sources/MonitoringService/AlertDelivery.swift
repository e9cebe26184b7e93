import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import NIOSSL
import Synchronization

/// One sink's queue: bodies wait here (at most `capacity`; the oldest is dropped beyond) and
/// are POSTed one at a time, with exponential backoff (0.5 s doubling to 30 s) after a failure,
/// the failed body kept at the head; a body the sink refuses for good (a 4xx but 408 and 429)
/// is dropped. A slow or unreachable sink delays only its own queue.
final class AlertDelivery: Sendable {
    private struct State {
        var queue: [(id: UInt64, body: [UInt8])] = []
        var nextId: UInt64 = 0
        var delivered = 0
        var dropped = 0
    }

    let target: AlertTarget
    private let capacity: Int
    private let state = Mutex(State())
    private let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation
    private let logger: Logger

    init(target: AlertTarget, capacity: Int = 1000, logger: Logger) {
        self.target = target
        self.capacity = capacity
        self.logger = logger
        (doorbell, ring) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        for outcome in ["delivered", "failed", "dropped"] {
            _ = Counter(.alertDeliveries, dimensions: [("sink", target.name), ("outcome", outcome)])
        }
    }

    /// Deliveries that succeeded.
    var delivered: Int { state.withLock { $0.delivered } }

    /// Queues one alert's text.
    func enqueue(_ text: String) {
        let body = target.body(text)
        let dropped = state.withLock { s -> Bool in
            var dropped = false
            if s.queue.count >= capacity {
                s.queue.removeFirst()
                s.dropped += 1
                dropped = true
            }
            s.nextId += 1
            s.queue.append((s.nextId, body))
            return dropped
        }
        if dropped { Counter(.alertDeliveries, dimensions: [("sink", target.name), ("outcome", "dropped")]).increment() }
        ring.yield()
    }

    /// Delivers until cancelled; waits on the doorbell while the queue is empty.
    func run(client: HTTPClient) async {
        var backoff = 0.5
        var bell = doorbell.makeAsyncIterator()
        while !Task.isCancelled {
            guard let item = state.withLock({ $0.queue.first }) else {
                guard await bell.next() != nil else { return }
                continue
            }
            let outcome = await post(item.body, client: client)
            if case .success(let status) = outcome, (200..<300).contains(status) {
                state.withLock { s in
                    // By identity: a full queue may have dropped this one while it was in flight.
                    s.queue.removeAll { $0.id == item.id }
                    s.delivered += 1
                }
                Counter(.alertDeliveries, dimensions: [("sink", target.name), ("outcome", "delivered")]).increment()
                backoff = 0.5
            } else if case .success(let status) = outcome, Self.isPermanentRefusal(status) {
                // Sending the same body again gets the same answer (bad request, bad token, no such
                // chat): it is dropped, so the alerts behind it are not held up for ever.
                state.withLock { s in
                    s.queue.removeAll { $0.id == item.id }
                    s.dropped += 1
                }
                Counter(.alertDeliveries, dimensions: [("sink", target.name), ("outcome", "dropped")]).increment()
                logger.error(
                    "alert refused by its sink; dropped",
                    metadata: ["sink": "\(target.name)", "url": "\(target.description)", "status": "\(status)"])
            } else {
                let why: String
                switch outcome {
                case .success(let status): why = "HTTP \(status)"
                case .failure(let error): why = target.redact("\(error)")
                }
                Counter(.alertDeliveries, dimensions: [("sink", target.name), ("outcome", "failed")]).increment()
                logger.warning(
                    "alert delivery failed; retrying",
                    metadata: [
                        "sink": "\(target.name)", "url": "\(target.description)", "error": "\(why)", "retry_in_s": "\(backoff)",
                    ])
                try? await Task.sleep(for: .milliseconds(Int(backoff * 1000)))
                backoff = min(backoff * 2, 30)
            }
        }
    }

    /// A 4xx other than 408 (timeout) and 429 (too many requests): the sink will never take this body.
    static func isPermanentRefusal(_ status: Int) -> Bool { (400..<500).contains(status) && status != 408 && status != 429 }

    /// One POST with a 5 s deadline; the answer's status, or why there was none.
    private func post(_ body: [UInt8], client: HTTPClient) async -> Result<Int, any Error> {
        var request = HTTPClientRequest(url: target.url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "exitbrain-monitor")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .seconds(5))
            _ = try await response.body.collect(upTo: 64 * 1024)
            return .success(Int(response.status.code))
        } catch {
            return .failure(error)
        }
    }

    /// The HTTP client every sink shares: the system's roots plus `caFile`'s, no redirects,
    /// 5 s to connect.
    static func makeClient(caFile: String?) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile { tls.additionalTrustRoots = [.file(caFile)] }
        let configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .seconds(5)))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
