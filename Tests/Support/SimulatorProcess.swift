import Foundation

/// `exitbrain venue-sim` as a process of its own on a free port (prices move only when told).
public final class SimulatorProcess: Sendable {
    public let control: SimulatorControl
    public let hedge: Bool
    private let process: TestProcess.Background

    public init(hedge: Bool, extra: [String] = []) async throws {
        guard let binary = ExitBrainBinary.path else { throw TestProcess.Failure("the exitbrain binary is not built") }
        let port = try FreePort.find()
        control = SimulatorControl(port: port)
        self.hedge = hedge
        let args = ["venue-sim", "--port", String(port), "--walk-bps", "0", "--mark-interval-ms", "200"] + (hedge ? ["--hedge"] : []) + extra
        process = try TestProcess.Background(
            binary, args,
            environment: [
                "VENUE_SIM_API_KEY": control.apiKey, "VENUE_SIM_API_SECRET": control.apiSecret, "PATH": "/usr/local/bin:/usr/bin:/bin",
            ])
        _ = try await LoopbackHTTP.poll(port: port, "/fapi/v1/ping", until: { $0.status == 200 }, within: .seconds(15))
    }

    /// The environment that points a service at this simulator.
    public var serviceEnvironment: [String: String] {
        [
            "EXCHANGE": "binance", "BINANCE_REST_URL": control.restURL, "BINANCE_WS_URL": control.wsURL,
            "BINANCE_API_KEY": control.apiKey, "BINANCE_API_SECRET": control.apiSecret, "BINANCE_REQUEST_TIMEOUT_MS": "1500",
        ]
    }

    /// What it printed.
    public var output: String { process.output }

    public func stop() async { _ = await process.stop(grace: .seconds(5)) }
}
