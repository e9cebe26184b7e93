import ChildProcesses
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Children started, waited for and stopped without blocking a thread of the concurrency pool.
@Suite struct ChildProcessTests {
    @Test func theExitStatusComesThroughTheReaper() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "exit 3"])
        #expect(await child.exited() == 3)
        #expect(!child.isRunning && child.exitStatus == 3)
    }

    @Test func stopSendsTermFirstAndReportsTheSignal() async throws {
        let child = try ChildProcess("/bin/sleep", ["30"])
        #expect(child.isRunning)
        #expect(await child.exited(within: .milliseconds(100)) == nil, "still running")
        let clock = ContinuousClock()
        let start = clock.now
        #expect(await child.stop(grace: .seconds(5)) == 128 + SIGTERM)
        #expect(clock.now - start < .seconds(2))
    }

    @Test func aCancelledTaskStillGrantsTheGrace() async throws {
        // The child exits cleanly on SIGTERM after a moment; a stop from a cancelled task must
        // wait for that instead of killing it at once.
        let child = try ChildProcess("/bin/sh", ["-c", "trap 'sleep 0.3; exit 7' TERM; while true; do sleep 0.05; done"])
        try await Task.sleep(for: .milliseconds(200))
        let stopper = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await child.stop(grace: .seconds(5))
        }
        #expect(await stopper.value == 7, "the child's own exit, not SIGKILL")
    }

    @Test func aChildThatLeadsItsGroupTakesTheGroupWithIt() async throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("exitbrain-group-\(UUID().uuidString)").path
        defer { unlink(marker) }
        // The grandchild would write the marker after 1 s; the leader exits at once.
        let child = try ChildProcess("/bin/sh", ["-c", "(sleep 1; touch '\(marker)') & exit 0"], ownProcessGroup: true)
        #expect(await child.exited() == 0)
        try await Task.sleep(for: .milliseconds(1500))
        #expect(!FileManager.default.fileExists(atPath: marker), "the leader's group was killed with it")
    }
}
