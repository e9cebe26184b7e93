import Foundation
import RedisClient

#if canImport(Glibc)
import Glibc
#endif

/// Runs a command-line tool from a test and collects what it printed.
///
/// Foundation's `Process.waitUntilExit()` hangs inside the Swift Testing runner here, so tools
/// are started with `posix_spawn` and reaped with `waitpid`, as `RedisServerProcess` does: the
/// child gets an empty signal mask and default SIGPIPE/SIGTERM/SIGINT/SIGHUP handling (threads of
/// the Swift runtime block signals, and that mask would otherwise be inherited), stdin from
/// `/dev/null`, and stdout and stderr together into a temporary file read after it exits.
/// The child leads its own process group, so a timeout kills everything it started.
public enum Subprocess {
    /// A tool that could not be found, started or waited for.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// The full path of `name`, searched on PATH (then the usual folders); a name with a `/`
    /// is taken as it is. Nil when there is no such executable.
    public static func find(_ name: String) -> String? {
        let fm = FileManager.default
        func executable(_ path: String) -> Bool {
            var isDirectory: ObjCBool = false
            return fm.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue && access(path, X_OK) == 0
        }
        if name.contains("/") { return executable(name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        for dir in dirs where !dir.isEmpty {
            let candidate = dir + "/" + name
            if executable(candidate) { return candidate }
        }
        return nil
    }

    /// Runs `executable` (searched on PATH) with `args` and waits for it.
    ///
    /// - Parameters:
    ///   - environment: the child's whole environment; nil inherits this process's.
    ///   - timeout: the child (and its process group) is killed after this long, and
    ///     `Failure` is thrown with what it printed so far.
    /// - Returns: the exit status (128 + signal number when a signal ended it) and stdout and
    ///   stderr interleaved as the tool wrote them.
    @discardableResult
    public static func run(
        _ executable: String, _ args: [String], environment: [String: String]? = nil,
        timeout: Duration = .seconds(300)
    ) async throws -> (status: Int32, output: String) {
        guard let exe = find(executable) else {
            throw Failure("\(executable) not found on PATH (\(ProcessInfo.processInfo.environment["PATH"] ?? ""))")
        }
        let outputPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("exitbrain-subprocess-\(UUID().uuidString).out").path
        defer { unlink(outputPath) }
        func output() -> String {
            guard let data = FileManager.default.contents(atPath: outputPath) else { return "" }
            return String(decoding: data, as: UTF8.self)
        }

        let child = try spawn(exe, args, environment: environment, outputPath: outputPath)

        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var status: Int32 = 0
        while true {
            let reaped = waitpid(child, &status, WNOHANG)
            if reaped == child { break }
            if reaped < 0 && errno != EINTR {
                throw Failure("waitpid(\(child)) for \(executable) failed: \(String(cString: strerror(errno)))")
            }
            if clock.now >= deadline {
                kill(-child, SIGKILL)
                kill(child, SIGKILL)
                while waitpid(child, &status, 0) < 0 && errno == EINTR {}
                throw Failure("\(executable) \(args.joined(separator: " ")) did not finish within \(timeout); it printed:\n\(output())")
            }
            // Polled with a task sleep, not usleep: a waiting test must not hold one of the
            // few threads every other test runs on.
            try? await Task.sleep(for: .milliseconds(10))
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are C macros Swift does not import.
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return (code, output())
    }

    /// Starts `exe` as `run` does (own process group, clean signal mask, stdin /dev/null,
    /// stdout and stderr into `outputPath`); returns its pid.
    static func spawn(_ exe: String, _ args: [String], environment: [String: String]?, outputPath: String) throws -> pid_t {
        do {
            return try ChildProcess.spawn(exe, args, environment: environment, output: outputPath, ownProcessGroup: true)
        } catch {
            throw Failure(error.description)
        }
    }

    /// A long-running child (a service under test): started at once, stopped with `stop()`.
    public final class Background: @unchecked Sendable {
        /// Its pid.
        public let pid: pid_t
        private let outputPath: String
        private var reaped = false

        /// Starts `executable` with `args` and exactly `environment`.
        public init(_ executable: String, _ args: [String], environment: [String: String]) throws {
            guard let exe = find(executable) else { throw Failure("\(executable) not found") }
            outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("exitbrain-background-\(UUID().uuidString).out").path
            pid = try spawn(exe, args, environment: environment, outputPath: outputPath)
        }

        /// What it printed so far.
        public var output: String {
            FileManager.default.contents(atPath: outputPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }

        /// True while it runs.
        public var isRunning: Bool {
            if reaped { return false }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { reaped = true }
            return !reaped
        }

        /// SIGTERM, up to `grace` to exit, then SIGKILL to its whole group. Returns the exit
        /// status (128 + signal when a signal ended it).
        @discardableResult
        public func stop(grace: Duration = .seconds(10)) -> Int32 {
            defer { unlink(outputPath) }
            guard !reaped else { return 0 }
            kill(pid, SIGTERM)
            let clock = ContinuousClock()
            let deadline = clock.now + grace
            var status: Int32 = 0
            while clock.now < deadline {
                if waitpid(pid, &status, WNOHANG) == pid {
                    reaped = true
                    kill(-pid, SIGKILL)
                    let signal = status & 0x7f
                    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
                }
                usleep(20_000)
            }
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            reaped = true
            return 128 + SIGKILL
        }

        deinit { if !reaped { _ = stop(grace: .seconds(2)) } }
    }
}
