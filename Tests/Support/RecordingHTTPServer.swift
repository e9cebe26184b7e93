import ChildProcesses
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// A local HTTP (or HTTPS) server for tests, on a free loopback port: answers every POST with
/// the next status of its script (the last one repeats) and keeps what it got.
public final class RecordingHTTPServer: Sendable {
    /// One request it answered.
    public struct Request: Sendable {
        /// The path, e.g. `/bot123:abc/sendMessage`.
        public let path: String
        /// The body as text.
        public let body: String
        /// The status it answered with.
        public let status: Int
        /// When it arrived.
        public let at: ContinuousClock.Instant
    }

    /// The script and what arrived, shared with the request handler.
    private final class Recorder: Sendable {
        struct State {
            var statuses: [Int]
            var received: [Request] = []
        }

        let state: Mutex<State>
        init(statuses: [Int]) { state = Mutex(State(statuses: statuses)) }

        /// Records a request; returns the status to answer with.
        func record(path: String, body: String) -> Int {
            state.withLock { s in
                let status = s.statuses.count > 1 ? s.statuses.removeFirst() : (s.statuses.first ?? 200)
                s.received.append(Request(path: path, body: body, status: status, at: ContinuousClock().now))
                return status
            }
        }
    }

    /// The port it listens on.
    public let port: Int
    private let recorder: Recorder
    private let task: Task<Void, any Error>

    private init(port: Int, recorder: Recorder, task: Task<Void, any Error>) {
        self.port = port
        self.recorder = recorder
        self.task = task
    }

    /// What it received, in order.
    public var received: [Request] { recorder.state.withLock { $0.received } }

    /// Starts a server; with `certificates`, it speaks HTTPS with their server certificate.
    public static func start(
        statuses: [Int], certificates: TestCertificates? = nil, reply: String = #"{"ok":true}"#
    ) async throws -> RecordingHTTPServer {
        let recorder = Recorder(statuses: statuses)
        let router = Router()
        router.on("**", method: .post) { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let status = recorder.record(path: request.uri.path, body: String(buffer: body))
            return Response(
                status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: reply)))
        }
        var logger = Logger(label: "test.http-server")
        logger.logLevel = .critical
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let configuration = ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0))
        let running: @Sendable (any Channel) async -> Void = { channel in portContinuation.yield(channel.localAddress?.port ?? 0) }
        let task: Task<Void, any Error>
        if let certificates {
            let tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificates.serverCertificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: certificates.serverKey, format: .pem)))
            let app = Application(
                router: router, server: try .tls(.http1(), tlsConfiguration: tls), configuration: configuration,
                onServerRunning: running, logger: logger)
            task = Task { try await app.run() }
        } else {
            let app = Application(router: router, configuration: configuration, onServerRunning: running, logger: logger)
            task = Task { try await app.run() }
        }
        // The port, or 0 when the server failed before it listened (no wait for ever).
        let port =
            await withDeadline(.seconds(10)) { () async -> Int in
                var iterator = ports.makeAsyncIterator()
                return await iterator.next() ?? 0
            } ?? 0
        portContinuation.finish()
        guard port > 0 else {
            task.cancel()
            throw TestProcess.Failure("the test HTTP server did not start")
        }
        return RecordingHTTPServer(port: port, recorder: recorder, task: task)
    }

    /// Stops the server.
    public func close() async {
        task.cancel()
        _ = await task.result
    }
}
