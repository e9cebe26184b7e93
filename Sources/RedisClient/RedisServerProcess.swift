import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A local `redis-server` child process, for the demo and for tests.
///
/// It is spawned with `posix_spawn` and reaped with `waitpid`, so stopping it never depends
/// on a run loop. The server keeps its port across restarts.
public final class RedisServerProcess: @unchecked Sendable {
    /// The loopback port it listens on.
    public let port: Int
    /// The extra `redis-server` arguments (persistence, password, …).
    public let arguments: [String]
    /// Its working directory.
    public let directory: String
    private let lock = NSLock()
    private var pid: pid_t = 0

    /// Prepares a server on `port` (nothing runs until `start()`).
    public init(port: Int, directory: String, arguments: [String] = []) {
        self.port = port
        self.directory = directory
        self.arguments = arguments
    }

    deinit { stop() }

    /// The child's process id while it runs.
    public var processIdentifier: pid_t? { lock.withLock { pid > 0 ? pid : nil } }

    /// Starts the server and waits until it accepts connections (or throws after `timeout`).
    public func start(timeout: Duration = .seconds(10)) throws(RedisError) {
        do {
            lock.lock()
            defer { lock.unlock() }
            guard pid == 0 else { return }
            let exe = try Self.executablePath()
            let args =
                [
                    "--port", String(port), "--bind", "127.0.0.1", "--dir", directory,
                    "--daemonize", "no", "--loglevel", "warning", "--logfile", "",
                ] + arguments
            do { pid = try ChildProcess.spawn(exe, args) } catch { throw RedisError(.io, error.description) }
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if Self.accepts(port: port) { return }
            if let code = exitedEarly() { throw RedisError(.io, "redis-server on port \(port) exited at start (status \(code)): is the port taken?") }
            usleep(5_000)
        }
        stop()
        throw RedisError(.timeout, "redis-server on port \(port) did not accept connections in time")
    }

    /// Stops it with SIGTERM (it exits cleanly, writing AOF/RDB if configured) and reaps it.
    public func stop() { signalAndReap(SIGTERM) }

    /// Kills it with SIGKILL and reaps it.
    public func kill() { signalAndReap(SIGKILL) }

    private func exitedEarly() -> Int32? {
        lock.withLock {
            guard pid > 0 else { return nil }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                pid = 0
                return status
            }
            return nil
        }
    }

    private func signalAndReap(_ signal: Int32) {
        let child = lock.withLock { () -> pid_t in
            defer { pid = 0 }
            return pid
        }
        guard child > 0 else { return }
        Glibc.kill(child, signal)
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
    }

    /// `redis-server` from PATH or the usual folders.
    public static func executablePath() throws(RedisError) -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
            let candidate = dir + "/redis-server"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw RedisError(.io, "redis-server not found on PATH (Debian: apt-get install redis-server)")
    }

    /// True when something accepts TCP connections on 127.0.0.1:`port`.
    public static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port that was free a moment ago on 127.0.0.1, chosen below the kernel's ephemeral range
    /// (32768 and up) so that a client socket's local port can never take it while a server
    /// on it is being restarted.
    public static func freePort() throws(RedisError) -> Int {
        for _ in 0..<200 {
            let candidate = Int.random(in: 20_000..<32_000)
            if canBind(candidate) { return candidate }
        }
        return try ephemeralPort()
    }

    private static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    private static func ephemeralPort() throws(RedisError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RedisError(.io, "socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw RedisError(.io, "bind() on 127.0.0.1 failed") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
