import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Why a child process could not be started or did not do what was expected of it.
public struct ChildProcessError: Error, Sendable, CustomStringConvertible {
    /// What happened, for a person.
    public let description: String

    /// An error.
    public init(_ description: String) { self.description = description }
}

/// A long-running child process (a `redis-server`, a service under test), started cleanly from
/// a Swift process with `posix_spawn`: an empty signal mask and default SIGPIPE/SIGTERM/SIGINT/
/// SIGHUP handling (threads of the Swift runtime block signals, and the child would inherit
/// that), stdin from `/dev/null`, stdout and stderr together into `output`.
///
/// A thread of its own waits for the child's exit (a blocking `waitpid` never runs on the
/// concurrency pool), and tasks wait for it through continuations: ``exited()``,
/// ``exited(within:)``, ``stop(grace:)``. A child that leads its own process group takes the
/// group with it when it exits.
public final class ChildProcess: Sendable {
    private struct State {
        var status: Int32?
        var waiters: [UInt64: CheckedContinuation<Int32?, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    /// Its process id.
    public let pid: pid_t
    /// What was started.
    public let executable: String
    /// Whether it leads a process group of its own.
    public let ownsProcessGroup: Bool
    private let state = Mutex(State())

    /// Starts `executable` (a path) with `arguments`; `environment` nil inherits this process's.
    /// With `ownProcessGroup`, the child leads a new process group (so all it starts can be
    /// signalled at once).
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        output: String = "/dev/null", ownProcessGroup: Bool = false
    ) throws(ChildProcessError) {
        self.executable = executable
        ownsProcessGroup = ownProcessGroup
        pid = try Self.spawn(executable, arguments, environment: environment, output: output, ownProcessGroup: ownProcessGroup)
        let thread = Thread { [self] in reap() }
        thread.name = "reaper-\(pid)"
        thread.start()
    }

    /// The full path of `name`, searched on PATH, then the usual folders; a name with a `/` is
    /// taken as it is. Nil when there is no such executable.
    public static func executable(named name: String) -> String? {
        func runnable(_ path: String) -> Bool {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue && access(path, X_OK) == 0
        }
        if name.contains("/") { return runnable(name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        return dirs.lazy.filter { !$0.isEmpty }.map { $0 + "/" + name }.first(where: runnable)
    }

    /// The exit status once it has exited (128 + the signal's number when a signal ended it).
    public var exitStatus: Int32? { state.withLock { $0.status } }

    /// True until it has exited.
    public var isRunning: Bool { exitStatus == nil }

    /// Sends a signal to the child while it runs (never to a reused pid).
    public func signal(_ signal: Int32) {
        state.withLock { s in
            if s.status == nil { _ = kill(pid, signal) }
        }
    }

    /// Sends a signal to the child's whole process group while the child runs (a child started
    /// with `ownProcessGroup`; the group is killed anyway when the child exits).
    public func signalGroup(_ signal: Int32) {
        guard ownsProcessGroup else { return }
        state.withLock { s in
            if s.status == nil { _ = kill(-pid, signal) }
        }
    }

    /// Waits for the exit; returns its status. Not ended by the task's cancellation.
    public func exited() async -> Int32 {
        if let status = exitStatus { return status }
        return await Task { await waitForExit() ?? exitStatus ?? 128 + SIGKILL }.value
    }

    /// Waits for the exit at most `limit`; nil when it still runs. The wait is not cut short by
    /// the calling task's cancellation (a stop in a cancelled test still grants its grace).
    public func exited(within limit: Duration) async -> Int32? {
        if let status = exitStatus { return status }
        return await Task { (await withDeadline(limit) { await self.waitForExit() } ?? nil) ?? exitStatus }.value
    }

    /// SIGTERM, up to `grace` to exit, then SIGKILL. Returns the exit status.
    @discardableResult
    public func stop(grace: Duration = .seconds(10)) async -> Int32 {
        signal(SIGTERM)
        if let status = await exited(within: grace) { return status }
        signalGroup(SIGKILL)
        signal(SIGKILL)
        return await exited()
    }

    /// A cancellable wait for the exit: nil when cancelled first.
    private func waitForExit() async -> Int32? {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
                let ready = state.withLock { s -> Int32?? in
                    if let status = s.status { return .some(status) }
                    if Task.isCancelled { return .some(nil) }
                    s.waiters[id] = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: nil)
        }
    }

    /// The reaper thread: waits for the exit without reaping (`WNOWAIT`), then reaps under the
    /// lock that ``signal(_:)`` takes, so a signal can never reach a pid the system reused; then
    /// wakes every waiter.
    private func reap() {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        let (status, waiters) = state.withLock { s -> (Int32, [CheckedContinuation<Int32?, Never>]) in
            // While the exited leader is still a zombie its group id cannot be reused: whatever
            // it left in its group goes now.
            if ownsProcessGroup { _ = kill(-pid, SIGKILL) }
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            // WIFEXITED / WEXITSTATUS / WTERMSIG are C macros Swift does not import.
            let signal = raw & 0x7f
            let status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
            s.status = status
            defer { s.waiters = [:] }
            return (status, Array(s.waiters.values))
        }
        for waiter in waiters { waiter.resume(returning: status) }
    }

    private static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String]?, output: String, ownProcessGroup: Bool
    ) throws(ChildProcessError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGTERM, SIGINT, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var cArgs = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var child: pid_t = 0
        let rc: Int32
        if let environment {
            var cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { for p in cEnv { free(p) } }
            rc = posix_spawn(&child, executable, &actions, &attributes, &cArgs, &cEnv)
        } else {
            rc = posix_spawn(&child, executable, &actions, &attributes, &cArgs, environ)
        }
        guard rc == 0 else { throw ChildProcessError("cannot start \(executable): \(String(cString: strerror(rc)))") }
        return child
    }
}
