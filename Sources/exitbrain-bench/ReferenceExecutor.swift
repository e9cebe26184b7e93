import ExitBrainCoordination
import Foundation
import RedisClient
import Support

/// The Python reference of the benchmarks: `scripts/reference/executor.py` (redis-py, the
/// seed's path) under a namespace of its own, run by the project's `.venv-tests` Python
/// (`scripts/setup.sh` installs redis-py there). Without that Python the figures are skipped, saying why.
struct ReferenceExecutor {
    let namespace: Namespace
    let version: String
    let process: TestProcess.Background

    static let python = ".venv-tests/bin/python3"
    static let script = "scripts/reference/executor.py"

    static func start(config: RedisConfiguration) async throws -> ReferenceExecutor? {
        guard FileManager.default.isExecutableFile(atPath: python), FileManager.default.fileExists(atPath: script) else {
            print("python reference: skipped (no \(python) or \(script): run scripts/setup.sh from the repository)")
            return nil
        }
        let probe = try await TestProcess.run(python, ["-c", "import redis; print(redis.__version__)"], environment: [:], timeout: .seconds(30))
        guard probe.status == 0 else {
            print("python reference: skipped (redis-py is not installed in .venv-tests: run scripts/setup.sh)")
            return nil
        }
        let namespace = try Namespace("bench-ref-\(getpid())")
        let url = "redis://\(config.host):\(config.port)/\(config.database)"
        let process = try TestProcess.Background(python, [script, url, namespace.prefix], environment: ["PATH": "/usr/bin:/bin"])
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while clock.now < deadline, !process.output.contains("ready") {
            guard process.isRunning else { throw BenchError("the reference executor ended: \(process.output)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard process.output.contains("ready") else { throw BenchError("the reference executor did not start: \(process.output)") }
        return ReferenceExecutor(
            namespace: namespace, version: probe.output.trimmingCharacters(in: .whitespacesAndNewlines), process: process)
    }

    func stop() async { _ = await process.stop(grace: .seconds(2)) }
}
