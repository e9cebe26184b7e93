import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The `exitbrain` binary of this build (`swift build --build-tests` builds it next to the tests).
public enum ExitBrainBinary {
    public static var path: String? {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("exitbrain").path
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        for candidate in [beside, root + "/.build/debug/exitbrain"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }
}

/// `exitbrain execution` or `exitbrain monitor` as a process of its own, on a free HTTP port.
public final class ServiceUnderTest: @unchecked Sendable {
    public enum Kind: String, Sendable {
        case execution
        case monitor
    }

    public let kind: Kind
    public let port: Int
    public let environment: [String: String]
    private var process: TestProcess.Background
    /// Everything earlier runs of this service printed (kept across restarts).
    private var earlierOutput = ""

    /// Starts the service with `environment` (plus its HTTP port and a PATH).
    public init(_ kind: Kind, environment: [String: String]) throws {
        guard let binary = ExitBrainBinary.path else { throw TestProcess.Failure("the exitbrain binary is not built") }
        self.kind = kind
        port = try FreePort.find()
        var env = environment
        env["HTTP_PORT"] = String(port)
        env["HTTP_HOST"] = "127.0.0.1"
        env["PATH"] = env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        self.environment = env
        process = try TestProcess.Background(binary, [kind.rawValue], environment: env)
    }

    /// What it printed (all runs).
    public var output: String { earlierOutput + process.output }

    public var pid: pid_t { process.pid }

    public var isRunning: Bool { process.isRunning }

    /// GET on its HTTP port.
    public func get(_ path: String) async throws -> (status: Int, body: String) { try await LoopbackHTTP.get(port: port, path) }

    /// Waits until `/health` answers `status` (and, if given, the body says `"status":"<word>"`
    /// somewhere, and contains `containing`).
    @discardableResult
    public func waitHealth(_ status: Int, word: String? = nil, containing: String? = nil, within: Duration) async throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        _ = try await LoopbackHTTP.poll(
            port: port, "/health",
            until: { answer in
                answer.status == status && (word.map { answer.body.contains("\"status\":\"\($0)\"") } ?? true)
                    && (containing.map { answer.body.contains($0) } ?? true)
            }, within: within)
        return clock.now - start
    }

    /// Waits until an execution instance holds its share of the bucket leases (health's
    /// `leases` entry OK).
    @discardableResult
    public func waitLeases(within: Duration) async throws -> Duration {
        try await waitHealth(200, containing: #""leases":{"status":"OK""#, within: within)
    }

    /// SIGKILL: no goodbye.
    public func kill9() async {
        process.signal(SIGKILL)
        let out = process.output
        _ = await process.stop(grace: .seconds(5))
        earlierOutput += out
    }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    public func stop() async -> Int32 {
        let out = process.output
        let status = await process.stop()
        earlierOutput += out
        return status
    }

    /// Starts it again with the same environment and port.
    public func restart() async throws {
        guard let binary = ExitBrainBinary.path else { throw TestProcess.Failure("the exitbrain binary is not built") }
        if process.isRunning { await stop() }
        process = try TestProcess.Background(binary, [kind.rawValue], environment: environment)
    }

    /// Resident memory in MB (from /proc).
    public var rssMB: Double { ResidentMemory.megabytes(of: "\(process.pid)") }

    /// The sum of a Prometheus metric family's samples (all label sets), from `/metrics`.
    public func metricSum(_ family: String) async throws -> Double {
        try await samples { $0.hasPrefix(family + "{") || $0.hasPrefix(family + " ") }.reduce(0, +)
    }

    /// One sample, by its full name with labels (`name{label="value"}`), from `/metrics`.
    public func metric(_ series: String) async throws -> Double? {
        try await samples { $0.hasPrefix(series + " ") }.first
    }

    private func samples(where matches: (Substring) -> Bool) async throws -> [Double] {
        try await get("/metrics").body.split(separator: "\n").filter(matches).compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
    }

    /// Sends a signal (SIGSTOP, SIGCONT, …).
    public func signal(_ signal: Int32) { process.signal(signal) }
}
