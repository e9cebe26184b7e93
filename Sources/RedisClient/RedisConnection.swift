import Foundation
import Synchronization

/// A Redis connection for commands, pipelines, transactions and scripts.
///
/// The hiredis context lives on this actor, whose jobs run on a thread of its own: blocking
/// reads and writes never occupy the Swift concurrency pool. When the server goes away the
/// connection is re-established on a later call, with capped exponential backoff between
/// attempts; while it is down, calls fail at once with `connectionDown` instead of hanging.
///
/// Calls made together share round trips (auto-pipelining): the commands of every call made
/// before a round's write go out in that write, each call's commands side by side and in
/// order, and each call gets its own replies. One caller's calls keep their order.
public actor RedisConnection {
    private let executor: ThreadExecutor
    /// The configuration this connection was made with.
    public nonisolated let configuration: RedisConfiguration
    private var context: RedisContext?
    private var lastError: RedisError?
    private var nextAttempt: ContinuousClock.Instant?
    private var backoffMilliseconds: Int
    private let scriptHashes = Mutex<[String: String]>([:])
    /// The sentinels' switch generation when the current primary was named.
    private var namedAtGeneration = 0
    /// The `+switch-master` watch, with sentinels.
    private lazy var sentinelWatch: SentinelWatch? = configuration.sentinels.isEmpty ? nil : SentinelWatch.shared(for: configuration)
    private var closed = false
    private let counters = Mutex(RedisConnectionStats())
    /// Calls waiting to share the next write (``roundTrip(_:)``).
    private let waitingCalls = Mutex<[(commands: [RedisCommand], reply: CheckedContinuation<Result<[RedisReply], RedisError>, Never>)]>([])
    private let primary = Mutex(PrimaryState())

    /// The server this connection last connected to, and when it last changed (a Sentinel switch).
    public struct PrimaryState: Sendable, Equatable {
        public var address: String?
        public var lastSwitch: Date?
    }

    /// Where the commands go (with sentinels: the primary they named last).
    public nonisolated var primaryState: PrimaryState { primary.withLock { $0 } }

    /// What the connection knows of its primary's replicas and of their acknowledgements.
    public struct ReplicationState: Sendable, Equatable {
        /// Replicas connected to the primary, as `ROLE` said last (nil before the first check).
        public var replicas: Int?
        /// Replicas that acknowledged the last `WAIT` (nil before the first).
        public var lastAcknowledged: Int?
    }

    private let replicationState = Mutex(ReplicationState())

    /// The primary's replicas and their last acknowledgement.
    public nonisolated var replication: ReplicationState { replicationState.withLock { $0 } }

    /// Asks the primary how many replicas it has (`ROLE`): what ``waitForReplica()`` goes by.
    /// The services ask at every heartbeat, off the path of their writes.
    @discardableResult
    nonisolated public func checkReplicas() async throws(RedisError) -> Int {
        let role = try await send(RedisCommand("ROLE"))
        // Primary: ["master", offset, [[ip, port, offset], …]].
        let count = role.array.flatMap { $0.count >= 3 && $0[0].string == "master" ? $0[2].array?.count : nil } ?? 0
        replicationState.withLock { $0.replicas = count }
        return count
    }

    /// Waits until one replica has every write made on this connection so far (`WAIT 1`, at
    /// most `replicaWaitMilliseconds`), when the primary has replicas (as the last
    /// ``checkReplicas()`` found); returns how many acknowledged, nil when there are no
    /// replicas to wait for. On Redis 7.0 `WAIT` cannot run inside a script: it follows the
    /// script on this connection.
    @discardableResult
    nonisolated public func waitForReplica() async throws(RedisError) -> Int? {
        guard let replicas = replication.replicas, replicas > 0 else { return nil }
        let acknowledged = Int(try await send(RedisCommand(["WAIT", 1, configuration.replicaWaitMilliseconds])).int ?? 0)
        replicationState.withLock { $0.lastAcknowledged = acknowledged }
        return acknowledged
    }

    /// The actor's jobs run on its own thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// The connection's thread as a task executor. A task that runs many commands in a row
    /// (a benchmark, a bulk load, a service's hot loop) can prefer it with
    /// `withTaskExecutorPreference(connection.taskExecutor) { … }`: its code then runs on the
    /// connection's thread and each call skips two thread hand-offs.
    public nonisolated var taskExecutor: any TaskExecutor { executor }

    /// Creates a connection; the first command connects. Use `connect()` to connect eagerly.
    public init(configuration: RedisConfiguration, name: String = "redis") {
        self.configuration = configuration
        self.executor = ThreadExecutor(name: name)
        self.backoffMilliseconds = configuration.reconnectInitialMilliseconds
    }

    deinit { executor.shutdown() }

    /// Connects now (or checks the current connection), throwing what went wrong.
    public func connect() throws(RedisError) {
        _ = try ready()
    }

    /// Closes the connection; later calls fail with `closed`.
    public func close() {
        closed = true
        context?.close()
        context = nil
    }

    /// Counters of this connection (round trips, reconnects, failures).
    public nonisolated var stats: RedisConnectionStats { counters.withLock { $0 } }

    /// True when the last call reached the server.
    public var isConnected: Bool { context?.isUsable ?? false }

    /// The error that brought the connection down, while it is down.
    public var currentError: RedisError? { context == nil ? lastError : nil }

    /// Sends one command and returns its reply; an error reply is thrown as `server`.
    @discardableResult
    nonisolated public func send(_ command: RedisCommand) async throws(RedisError) -> RedisReply {
        let reply = try await roundTrip([command])[0]
        if case .error(let text) = reply {
            throw RedisError(.server, "\(command.name): \(text)")
        }
        return reply
    }

    /// Sends one command built from its parts: `send("SET", "k", "v")`.
    @discardableResult
    nonisolated public func send(_ name: String, _ args: any RedisArgument...) async throws(RedisError) -> RedisReply {
        try await send(RedisCommand([name] + args))
    }

    /// Sends every command in one write and reads every reply: one round trip.
    /// Error replies come back in place (as `.error`), so one refused command spoils nothing else.
    nonisolated public func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        if commands.isEmpty { return [] }
        return try await roundTrip(commands)
    }

    /// Runs the commands in MULTI/EXEC in one round trip and returns EXEC's replies.
    /// A command refused while queueing aborts the whole transaction with `server`.
    nonisolated public func transaction(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        let replies = try await pipeline([["MULTI"]] + commands + [["EXEC"]])
        for (i, r) in replies.dropLast().enumerated() {
            if case .error(let text) = r {
                let name = i == 0 ? "MULTI" : commands[i - 1].name
                throw RedisError(.server, "transaction aborted: \(name): \(text)")
            }
        }
        switch replies.last {
        case .array(let results)?: return results
        case .null?: throw RedisError(.transactionAborted, "transaction aborted: a watched key changed")
        case .error(let text)?: throw RedisError(.server, "EXEC: \(text)")
        default: throw RedisError(.unexpectedReply, "EXEC returned \(replies.last?.description ?? "nothing")")
        }
    }

    /// Runs a Lua script by EVALSHA; on NOSCRIPT (first use, or a restarted server) it loads
    /// the script and tries once more. One round trip once the script is known to the server.
    nonisolated public func evaluate(
        _ script: RedisScript, keys: [any RedisArgument], args: [any RedisArgument]
    ) async throws(RedisError) -> RedisReply {
        var tail: [any RedisArgument] = [keys.count]
        tail += keys
        tail += args
        if let sha = scriptHashes.withLock({ $0[script.source] }) {
            let reply = try await roundTrip([RedisCommand(["EVALSHA", sha] + tail)])[0]
            if case .error(let text) = reply {
                guard text.hasPrefix("NOSCRIPT") else { throw RedisError(.server, "script \(script.name): \(text)") }
            } else {
                return reply
            }
        }
        let sha = try await load(script)
        let reply = try await roundTrip([RedisCommand(["EVALSHA", sha] + tail)])[0]
        if case .error(let text) = reply {
            throw RedisError(.server, "script \(script.name): \(text)")
        }
        return reply
    }

    /// Runs a script once per call, all calls pipelined in one write: one round trip (two the
    /// first time, to load the script). Replies come back in call order, error replies in place;
    /// calls the server did not run (NOSCRIPT after a restart) are run again once loaded.
    nonisolated public func evaluateAll(
        _ script: RedisScript, calls: [(keys: [any RedisArgument], args: [any RedisArgument])]
    ) async throws(RedisError) -> [RedisReply] {
        if calls.isEmpty { return [] }
        func commands(_ sha: String, _ indices: [Int]) -> [RedisCommand] {
            indices.map { i in RedisCommand(["EVALSHA", sha, calls[i].keys.count] + calls[i].keys + calls[i].args) }
        }
        var sha = try await hash(of: script)
        var replies = try await pipeline(commands(sha, Array(calls.indices)))
        let missing = replies.indices.filter { if case .error(let text) = replies[$0] { text.hasPrefix("NOSCRIPT") } else { false } }
        if !missing.isEmpty {
            sha = try await load(script)
            for (i, reply) in zip(missing, try await pipeline(commands(sha, missing))) { replies[i] = reply }
        }
        return replies
    }

    /// Sends `commands` and then one script call in a single write: one round trip (two the
    /// first time, to load the script). The commands' replies come back in order, error
    /// replies in place; the script's error reply is thrown, as in `evaluate`.
    nonisolated public func pipeline(
        _ commands: [RedisCommand], then script: RedisScript, keys: [any RedisArgument],
        args: [any RedisArgument]
    ) async throws(RedisError) -> (replies: [RedisReply], script: RedisReply) {
        let sha = try await hash(of: script)
        var replies = try await pipeline(commands + [RedisCommand(["EVALSHA", sha, keys.count] + keys + args)])
        var last = replies.removeLast()
        if case .error(let text) = last, text.hasPrefix("NOSCRIPT") {
            _ = try await load(script)
            last = try await evaluate(script, keys: keys, args: args)
        } else if case .error(let text) = last {
            throw RedisError(.server, "script \(script.name): \(text)")
        }
        return (replies, last)
    }

    /// The script's SHA1 as the server knows it: the one loaded before, or loaded now.
    nonisolated private func hash(of script: RedisScript) async throws(RedisError) -> String {
        if let known = scriptHashes.withLock({ $0[script.source] }) { return known }
        return try await load(script)
    }

    nonisolated private func load(_ script: RedisScript) async throws(RedisError) -> String {
        let loaded = try await send(RedisCommand("SCRIPT", "LOAD", script.source))
        guard let sha = loaded.string else { throw RedisError(.unexpectedReply, "SCRIPT LOAD returned \(loaded)") }
        scriptHashes.withLock { $0[script.source] = sha }
        return sha
    }

    /// Times one PING round trip.
    nonisolated public func ping() async throws(RedisError) -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        try await send(["PING"])
        return clock.now - start
    }

    // MARK: - shared round trips

    /// Writes `commands` and reads their replies, in one write with the commands of every call
    /// that arrives before the write. The first call of a round asks the connection's thread
    /// to write after the jobs queued there now; calls made meanwhile join the round. The write
    /// and read run on the thread between its jobs. A caller waits off this actor (its reply
    /// comes back to it straight from the thread). A failure of the write or read fails every
    /// call of the round.
    nonisolated private func roundTrip(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        try await withCheckedContinuation { (reply: CheckedContinuation<Result<[RedisReply], RedisError>, Never>) in
            let first = waitingCalls.withLock { calls in
                calls.append((commands, reply))
                return calls.count == 1
            }
            guard first else { return }
            executor.later { [self] in assumeIsolated { $0.writeWaitingCalls() } }
        }.get()
    }

    /// One round: every waiting call's commands in one write, each call's replies to it.
    private func writeWaitingCalls() {
        let calls = waitingCalls.withLock { calls in
            defer { calls.removeAll() }
            return calls
        }
        var all: [RedisCommand] = []
        for call in calls { all += call.commands }
        let replies: [RedisReply]
        do { replies = try withContext { (c) throws(RedisError) in try c.pipeline(all) } } catch {
            for call in calls { call.reply.resume(returning: .failure(error)) }
            return
        }
        for case .error(let text) in replies { askAgainIfNotPrimary(text) }
        if calls.count == 1 {
            // A round of one call (no one else was waiting): its replies as they are, no copy.
            calls[0].reply.resume(returning: .success(replies))
            return
        }
        var start = 0
        for call in calls {
            call.reply.resume(returning: .success(Array(replies[start..<start + call.commands.count])))
            start += call.commands.count
        }
    }

    // MARK: - connection management

    private func withContext<T>(_ body: (RedisContext) throws(RedisError) -> T) throws(RedisError) -> T {
        let c = try ready()
        do {
            let result = try body(c)
            counters.withLock { $0.roundTrips += 1 }
            return result
        } catch {
            // A failed command leaves hiredis's context unusable (timeout, EOF, reset): drop it.
            if !c.isUsable || error.isConnectionFailure { dropConnection(error) }
            counters.withLock { $0.failures += 1 }
            throw error
        }
    }

    private func ready() throws(RedisError) -> RedisContext {
        if closed { throw RedisError(.closed, "connection to \(configuration.address) was closed") }
        let watch = sentinelWatch
        if let c = context {
            let switched = watch.map { $0.generation != namedAtGeneration } ?? false
            if !switched && c.isUsable && !c.peerClosedWhileIdle() { return c }
            // A sentinel announced a switch since this primary was named, or the server closed
            // the connection while idle (restart, CLIENT KILL, timeout): replace it before
            // writing anything, so no command goes to an old primary or is lost to a dead socket.
            context = nil
            c.close()
            nextAttempt = nil
        }
        let clock = ContinuousClock()
        if let due = nextAttempt, clock.now < due {
            let wait = due - clock.now
            let ms = Int(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)
            let cause = lastError.map { $0.message } ?? "unknown error"
            throw RedisError(.connectionDown, "redis at \(configuration.address) is down (\(cause)); next reconnect in \(ms) ms")
        }
        do {
            namedAtGeneration = watch?.generation ?? 0
            let c =
                configuration.sentinels.isEmpty
                ? try RedisContext(configuration: configuration)
                : try SentinelResolver.connectPrimary(configuration, commandTimeout: true)
            let address = c.configuration.address
            primary.withLock { p in
                if let known = p.address, known != address { p.lastSwitch = Date() }
                p.address = address
            }
            context = c
            lastError = nil
            nextAttempt = nil
            backoffMilliseconds = configuration.reconnectInitialMilliseconds
            counters.withLock { $0.connects += 1 }
            return c
        } catch {
            lastError = error
            nextAttempt = clock.now + .milliseconds(backoffMilliseconds)
            backoffMilliseconds = min(backoffMilliseconds * 2, configuration.reconnectMaxMilliseconds)
            counters.withLock { $0.failures += 1 }
            throw error
        }
    }

    /// An error reply saying this node is no longer a usable primary (READONLY, LOADING,
    /// NOREPLICAS): with sentinels, the connection is dropped and the next call asks them again.
    private func askAgainIfNotPrimary(_ text: String) {
        guard !configuration.sentinels.isEmpty, SentinelResolver.meansAskAgain(text) else { return }
        dropConnection(RedisError(.connectionDown, "the server answered \(text.prefix(60)); asking the sentinels for the primary"))
    }

    private func dropConnection(_ error: RedisError) {
        context?.close()
        context = nil
        lastError = error
        // Retry at once on the next call: the server may just have restarted.
        nextAttempt = nil
    }
}

/// Counters of one connection.
public struct RedisConnectionStats: Sendable, Equatable {
    /// Write-and-read cycles: one per round, however many calls shared its write (a command, a
    /// pipeline or a transaction alone counts one).
    public var roundTrips = 0
    /// Successful connects, the first included.
    public var connects = 0
    /// Failed connects and commands.
    public var failures = 0
}
