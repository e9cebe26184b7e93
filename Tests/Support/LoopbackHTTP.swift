import AsyncHTTPClient
import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// HTTP to services under test on loopback: requests with async-http-client, and raw bytes
/// over a plain socket (on a thread of its own) for the malformed requests no client sends.
public enum LoopbackHTTP {
    /// GETs `path` on 127.0.0.1:`port` (5 s timeout).
    public static func get(port: Int, _ path: String) async throws -> (status: Int, body: String) {
        let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    /// Sends raw request bytes; returns the status code, or nil when the server closed the
    /// connection without an answer. The blocking socket runs on a thread of its own.
    public static func raw(port: Int, _ request: [UInt8]) async throws -> Int? {
        let answer: Result<Int?, TestProcess.Failure> = await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: Result { () throws(TestProcess.Failure) in try exchange(port, request) }) }
            thread.name = "raw-http"
            thread.start()
        }
        return try answer.get()
    }

    private static func exchange(_ port: Int, _ request: [UInt8]) throws(TestProcess.Failure) -> Int? {
        let fd = try connectLoopback(port)
        defer { close(fd) }
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }  // the server may close early on an oversized request
            sent += n
        }
        let text = String(decoding: readAll(fd), as: UTF8.self)
        return text.split(separator: "\r\n").first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
    }

    /// A connected TCP socket to 127.0.0.1:`port` with 5 s send and receive timeouts.
    static func connectLoopback(_ port: Int) throws(TestProcess.Failure) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestProcess.Failure("socket failed") }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw TestProcess.Failure("connect to 127.0.0.1:\(port) failed")
        }
        return fd
    }

    /// Reads until the peer closes (or the timeout).
    static func readAll(_ fd: Int32) -> [UInt8] {
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        return response
    }

    /// GETs `path` every 100 ms until `done` holds; throws with the last answer after `within`.
    public static func poll(
        port: Int, _ path: String, until done: ((status: Int, body: String)) -> Bool,
        within: Duration
    ) async throws -> (status: Int, body: String) {
        let clock = ContinuousClock()
        let deadline = clock.now + within
        var last: (status: Int, body: String)?
        while clock.now < deadline {
            if let answer = try? await get(port: port, path) {
                last = answer
                if done(answer) { return answer }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestProcess.Failure(
            "\(path) on \(port) did not reach the expected state within \(within); last: \(last.map { "\($0.status) \($0.body.prefix(300))" } ?? "no answer")"
        )
    }
}
