import CHiredis
import Foundation

/// One blocking hiredis connection. Not thread-safe: its owner (an actor on its own thread,
/// or a subscriber's reading thread) is the only caller.
final class RedisContext {
    private var ctx: UnsafeMutablePointer<redisContext>?
    let configuration: RedisConfiguration

    /// Connects, authenticates and selects the database; throws a precise error otherwise.
    init(configuration: RedisConfiguration, commandTimeout: Bool = true) throws(RedisError) {
        self.configuration = configuration
        RedisSignals.ignoreSIGPIPE()
        guard let c = eb_connect(configuration.host, Int32(configuration.port), configuration.connectTimeoutMilliseconds) else {
            throw RedisError(.io, "cannot allocate a redis context for \(configuration.address)")
        }
        ctx = c
        if eb_ctx_err(c) != 0 {
            let error = Self.error(from: c, configuration: configuration, connecting: true)
            close()
            throw error
        }
        if commandTimeout {
            _ = eb_set_timeout(c, configuration.commandTimeoutMilliseconds)
        } else {
            _ = eb_clear_timeout(c)
            _ = redisEnableKeepAlive(c)
        }
        do throws(RedisError) {
            if let password = configuration.password {
                var auth = RedisCommand("AUTH")
                if let user = configuration.username { auth.arguments.append(Array(user.utf8)) }
                auth.arguments.append(Array(password.utf8))
                let reply = try command(auth)
                if case .error(let text) = reply {
                    throw RedisError(.authFailed, "redis at \(configuration.address) refused the credentials: \(Self.authText(text))")
                }
            }
            if configuration.database != 0 {
                let reply = try command(RedisCommand("SELECT", configuration.database))
                if case .error(let text) = reply {
                    if text.hasPrefix("NOAUTH") {
                        throw RedisError(.authFailed, "redis at \(configuration.address) requires a password: set it in REDIS_URL")
                    }
                    throw RedisError(.server, "SELECT \(configuration.database) failed: \(text)")
                }
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Frees the hiredis context.
    func close() {
        if let c = ctx { redisFree(c) }
        ctx = nil
    }

    /// True while the context has no error and is open.
    var isUsable: Bool {
        guard let c = ctx else { return false }
        return eb_ctx_err(c) == 0
    }

    /// The socket, for `poll` and `shutdown`.
    var fileDescriptor: Int32 { ctx.map { eb_ctx_fd($0) } ?? -1 }

    /// True when the server has closed the socket (or sent something unasked) while idle:
    /// such a connection is replaced before a command is written to it.
    func peerClosedWhileIdle() -> Bool {
        guard let c = ctx else { return true }
        var p = pollfd(fd: eb_ctx_fd(c), events: Int16(POLLIN), revents: 0)
        let n = poll(&p, 1, 0)
        return n != 0
    }

    /// Wakes a thread blocked reading this connection (used by the subscriber's `close`).
    func shutdownSocket() {
        if let c = ctx { _ = eb_ctx_shutdown(c) }
    }

    /// Sends one command and reads its reply. Error replies are returned, not thrown.
    func command(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        try append(command)
        return try readReply()
    }

    private var writer = RESPWriter(capacity: 4096)

    /// Sends all commands in one write and reads all replies: one round trip.
    func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisReply] {
        try append(contentsOf: commands)
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try readReply()) }
        return replies
    }

    /// Queues a command in hiredis's output buffer (nothing is written yet).
    func append(_ command: RedisCommand) throws(RedisError) {
        try append(contentsOf: CollectionOfOne(command))
    }

    /// Formats the commands into one RESP buffer and queues it in a single append.
    func append(contentsOf commands: some Collection<RedisCommand>) throws(RedisError) {
        guard let c = ctx else { throw RedisError(.closed, "connection to \(configuration.address) is closed") }
        writer.removeAll()
        for command in commands { writer.append(command) }
        let rc = writer.bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(c, $0.baseAddress, $0.count) }
        }
        if rc != REDIS_OK {
            throw Self.error(from: c, configuration: configuration, connecting: false)
        }
    }

    /// Writes everything queued by `append` without reading.
    func flush() throws(RedisError) {
        guard let c = ctx else { throw RedisError(.closed, "connection to \(configuration.address) is closed") }
        var done: Int32 = 0
        while done == 0 {
            if redisBufferWrite(c, &done) != REDIS_OK {
                throw Self.error(from: c, configuration: configuration, connecting: false)
            }
        }
    }

    /// Reads one reply (flushing pending output first, as hiredis does in blocking mode).
    func readReply() throws(RedisError) -> RedisReply {
        guard let c = ctx else { throw RedisError(.closed, "connection to \(configuration.address) is closed") }
        var raw: UnsafeMutablePointer<redisReply>?
        if eb_get_reply(c, &raw) != REDIS_OK || raw == nil {
            throw Self.error(from: c, configuration: configuration, connecting: false)
        }
        defer { eb_free_reply(raw) }
        return RedisReply(raw!)
    }

    /// Maps the context's error state to a precise error.
    static func error(from c: UnsafePointer<redisContext>, configuration: RedisConfiguration, connecting: Bool) -> RedisError {
        let err = eb_ctx_err(c)
        let text = String(cString: eb_ctx_errstr(c))
        let lower = text.lowercased()
        let addr = configuration.address
        if err == eb_timeout_code() || lower.contains("resource temporarily unavailable") || lower.contains("timed out") || lower == "timeout" {
            return connecting
                ? RedisError(.timeout, "connecting to redis at \(addr) timed out after \(configuration.connectTimeoutMilliseconds) ms")
                : RedisError(.timeout, "redis at \(addr) did not answer within \(configuration.commandTimeoutMilliseconds) ms")
        }
        if lower.contains("connection refused") {
            return RedisError(.connectionRefused, "connection refused by redis at \(addr): is redis-server running there?")
        }
        if err == REDIS_ERR_EOF || lower.contains("connection reset") || lower.contains("broken pipe") || lower.contains("server closed") {
            return RedisError(.connectionClosed, "redis at \(addr) closed the connection (\(text))")
        }
        if err == REDIS_ERR_PROTOCOL {
            return RedisError(.io, "protocol error from redis at \(addr): \(text)")
        }
        return RedisError(.io, "redis at \(addr): \(text.isEmpty ? "i/o error" : text)")
    }

    private static func authText(_ text: String) -> String {
        if text.hasPrefix("WRONGPASS") || text.contains("invalid password") || text.contains("invalid username-password") {
            return "wrong user name or password"
        }
        if text.contains("without any password configured") || text.contains("no password is set") {
            return "the server has no password set, but REDIS_URL carries one"
        }
        return text
    }
}

/// Process-wide signal setup the client needs.
enum RedisSignals {
    private static let once: Void = {
        // hiredis writes with write(2): after the peer closes, SIGPIPE would kill the process.
        signal(SIGPIPE, SIG_IGN)
    }()

    /// Ignores SIGPIPE once for the whole process.
    static func ignoreSIGPIPE() { _ = once }
}
