import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A local `redis-server` child process, for the demo and for tests. It keeps its port across
/// restarts.
public final class RedisServerProcess: Sendable {
    /// The loopback port it listens on.
    public let port: Int
    /// The extra `redis-server` arguments (persistence, password, …).
    public let arguments: [String]
    /// Its working directory.
    public let directory: String
    /// A config file read first (a sentinel needs a writable one).
    public let configFile: String?
    private let child = Mutex<ChildProcess?>(nil)

    /// Prepares a server on `port` (nothing runs until `start()`).
    public init(port: Int, directory: String, arguments: [String] = [], configFile: String? = nil) {
        self.port = port
        self.directory = directory
        self.arguments = arguments
        self.configFile = configFile
    }

    deinit { terminate() }

    /// The child's process id while it runs.
    public var processIdentifier: pid_t? { child.withLock { $0?.isRunning == true ? $0?.pid : nil } }

    /// Starts the server (after the previous one, if any, has exited) and waits until it
    /// accepts connections; throws after `timeout`, or when it exits at start.
    public func start(timeout: Duration = .seconds(10)) async throws(ChildProcessError) {
        if let previous = child.withLock({ $0 }) {
            if previous.isRunning { return }
        }
        let args =
            (configFile.map { [$0] } ?? [])
            + [
                "--port", String(port), "--bind", "127.0.0.1", "--dir", directory,
                "--daemonize", "no", "--loglevel", "warning", "--logfile", "",
            ] + arguments
        let started = try ChildProcess(try Self.executablePath(), args)
        child.withLock { $0 = started }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if LoopbackPort.accepts(port) { return }
            if let code = started.exitStatus {
                throw ChildProcessError("redis-server on port \(port) exited at start (status \(code)): is the port taken?")
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        await started.stop(grace: .seconds(1))
        throw ChildProcessError("redis-server on port \(port) did not accept connections within \(timeout)")
    }

    /// Stops it with SIGTERM (it exits cleanly, writing AOF/RDB if configured) and waits for the exit.
    public func stop() async { await child.withLock({ $0 })?.stop() }

    /// Kills it with SIGKILL and waits for the exit.
    public func kill() async {
        guard let running = child.withLock({ $0 }) else { return }
        running.signal(SIGKILL)
        _ = await running.exited()
    }

    /// Sends SIGTERM without waiting (for exits and cleanups that cannot wait).
    public func terminate() { child.withLock { $0 }?.signal(SIGTERM) }

    /// `redis-server` from PATH or the usual folders.
    public static func executablePath() throws(ChildProcessError) -> String {
        guard let path = ChildProcess.executable(named: "redis-server") else {
            throw ChildProcessError("redis-server not found on PATH (Debian: apt-get install redis-server)")
        }
        return path
    }
}
