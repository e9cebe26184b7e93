import ChildProcesses
import Foundation
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Runs command-line tools from tests: to completion with swift-subprocess (``run(_:_:environment:timeout:)``),
/// or in the background as a service under test (``Background``, over ``ChildProcess``).
public enum TestProcess {
    /// A tool that could not be found, started or waited for.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// The full path of `name`, searched on PATH (then the usual folders); a name with a `/`
    /// is taken as it is. Nil when there is no such executable.
    public static func find(_ name: String) -> String? { ChildProcess.executable(named: name) }

    /// Runs `executable` (searched on PATH) with `args` and waits for it.
    ///
    /// - Parameters:
    ///   - environment: the child's whole environment; nil inherits this process's.
    ///   - timeout: the child is killed after this long, and `Failure` is thrown.
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
        let env: Subprocess.Environment =
            environment.map { .custom(Dictionary(uniqueKeysWithValues: $0.map { (Subprocess.Environment.Key(stringLiteral: $0.key), $0.value) })) }
            ?? .inherit
        let outcome = try await withDeadline(timeout) { () async throws -> (status: Int32, output: String) in
            let result = try await Subprocess.run(
                .path(FilePath(exe)), arguments: Arguments(args), environment: env,
                output: .string(limit: 16 << 20), error: .combinedWithOutput)
            let status: Int32
            switch result.terminationStatus {
            case .exited(let code): status = code
            case .signaled(let signal): status = 128 + signal
            }
            return (status, result.standardOutput ?? "")
        }
        guard let outcome else { throw Failure("\(executable) \(args.joined(separator: " ")) did not finish within \(timeout)") }
        return outcome
    }

    /// A long-running child (a service under test): started at once, stopped with `stop()`.
    /// It leads its own process group, so stopping it stops all it started.
    public final class Background: Sendable {
        private let child: ChildProcess
        private let outputPath: String

        /// Its pid.
        public var pid: pid_t { child.pid }

        /// Starts `executable` with `args` and exactly `environment`.
        public init(_ executable: String, _ args: [String], environment: [String: String]) throws {
            guard let exe = find(executable) else { throw Failure("\(executable) not found") }
            outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("exitbrain-background-\(UUID().uuidString).out").path
            do {
                child = try ChildProcess(exe, args, environment: environment, output: outputPath, ownProcessGroup: true)
            } catch {
                throw Failure(error.description)
            }
        }

        /// What it printed so far.
        public var output: String {
            FileManager.default.contents(atPath: outputPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }

        /// True while it runs.
        public var isRunning: Bool { child.isRunning }

        /// Sends a signal (SIGKILL, SIGSTOP, …) to it.
        public func signal(_ signal: Int32) { child.signal(signal) }

        /// SIGTERM, up to `grace` to exit, then SIGKILL to its whole group. Returns the exit
        /// status (128 + signal when a signal ended it).
        @discardableResult
        public func stop(grace: Duration = .seconds(10)) async -> Int32 {
            await child.stop(grace: grace)
        }

        /// Waits for it to exit by itself, at most `limit`; nil while it still runs.
        public func exited(within limit: Duration) async -> Int32? { await child.exited(within: limit) }

        deinit {
            // A test that did not stop it: the group gets SIGKILL (nothing may wait here).
            if child.isRunning { child.signalGroup(SIGKILL) }
            unlink(outputPath)
        }
    }
}
