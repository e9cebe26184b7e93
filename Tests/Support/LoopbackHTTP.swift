import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 client for services under test on loopback: one GET per connection,
/// 5 s timeouts, chunked bodies joined.
public enum LoopbackHTTP {
    /// GETs `path` on 127.0.0.1:`port`.
    public static func get(port: Int, _ path: String) throws -> (status: Int, body: String) {
        let fd = try connectLoopback(port)
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { throw Subprocess.Failure("send failed") }
        let text = String(decoding: readAll(fd), as: UTF8.self)
        guard let line = text.split(separator: "\r\n").first, let status = Int(line.split(separator: " ").dropFirst().first ?? "") else {
            throw Subprocess.Failure("no HTTP answer on 127.0.0.1:\(port)\(path): \(text.prefix(200))")
        }
        var body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        if text.lowercased().contains("transfer-encoding: chunked") { body = dechunk(body) }
        return (status, body)
    }

    /// Sends raw request bytes; returns the status code, or nil when the server closed the
    /// connection without an answer.
    public static func raw(port: Int, _ request: [UInt8]) throws -> Int? {
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
    static func connectLoopback(_ port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Subprocess.Failure("socket failed") }
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
            throw Subprocess.Failure("connect to 127.0.0.1:\(port) failed")
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
            if let answer = try? get(port: port, path) {
                last = answer
                if done(answer) { return answer }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Subprocess.Failure(
            "\(path) on \(port) did not reach the expected state within \(within); last: \(last.map { "\($0.status) \($0.body.prefix(300))" } ?? "no answer")"
        )
    }

    static func dechunk(_ body: String) -> String {
        var out: [UInt8] = []
        var rest = Array(body.utf8)[...]
        while let end = rest.firstRange(of: [13, 10]), let size = Int(String(decoding: rest[..<end.lowerBound], as: UTF8.self), radix: 16), size > 0 {
            let start = end.upperBound
            out += rest[start..<min(rest.endIndex, start + size)]
            rest = rest[min(rest.endIndex, start + size + 2)...]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
