#if canImport(Glibc)
import Glibc
#endif

/// Starts a child process cleanly from a Swift process, with `posix_spawn`: an empty signal
/// mask and default SIGPIPE/SIGTERM/SIGINT/SIGHUP handling (threads of the Swift runtime block
/// signals, and the child would inherit that), stdin from `/dev/null`, stdout and stderr
/// together into `output`. Used for `redis-server` here and for the tools tests run.
public enum ChildProcess {
    /// Why a child could not be started.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `executable` (a path) with `arguments`; `environment` nil inherits this process's.
    /// With `ownProcessGroup`, the child leads a new process group (so all it starts can be
    /// signalled at once). Returns its pid.
    public static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        output: String = "/dev/null", ownProcessGroup: Bool = false
    ) throws(Failure) -> pid_t {
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
        guard rc == 0 else { throw Failure(description: "cannot start \(executable): \(String(cString: strerror(rc)))") }
        return child
    }
}
