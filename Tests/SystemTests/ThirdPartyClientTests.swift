import Foundation
import Support
import Testing

/// The simulator speaks Binance's protocol, not a dialect of its own: ccxt's `binanceusdm`,
/// with only its URLs pointed at it, places a market order and a conditional stop, lists and
/// cancels, reads positions, balance and a listenKey (Tests/ccxt/drive_simulator.py).
@Suite("Third-party clients against the simulator", .serialized)
struct ThirdPartyClientTests {
    /// The Python that has ccxt: scripts/setup.sh's `.venv-tests`, else the one on PATH.
    static var python: String? {
        let venv = root + "/.venv-tests/bin/python3"
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : TestProcess.find("python3")
    }

    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// ccxt is installed by scripts/setup.sh; under CI its absence fails the test.
    static var ccxtAvailable: Bool {
        guard let python else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: python)
        probe.arguments = ["-c", "import ccxt"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    static var script: String { root + "/Tests/ccxt/drive_simulator.py" }

    @Test(.enabled(if: TestRedis.isCI || ccxtAvailable, "needs python3 with ccxt (scripts/setup.sh installs it)"), arguments: [true, false])
    func ccxtDrivesTheSimulator(hedge: Bool) async throws {
        let sim = try await SimulatorProcess(hedge: hedge)
        let python = try #require(Self.python, "python3 is not installed")
        let (status, output) = try await TestProcess.run(
            python, [Self.script, String(sim.control.port), sim.control.apiKey, sim.control.apiSecret, hedge ? "hedge" : "oneway"],
            timeout: .seconds(120))
        await sim.stop()
        #expect(status == 0, "\(output)")
        #expect(output.contains("all steps ok"), "\(output)")
        #expect(!output.contains("FAIL"), "\(output)")
    }
}
