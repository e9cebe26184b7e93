import ChildProcesses
import Foundation
import RedisClient

// exitbrain-bench [redis] [store] [reconcile] [venue] [binance] [decision] [service] [--ops N] [--positions N] [--tick-seconds N]: prints figures beside their in-run baselines.
// It starts its own redis-server on a free port unless REDIS_URL is set.
let args = CommandLine.arguments.dropFirst()
let sections = Set(args.filter { !$0.hasPrefix("--") && Int($0) == nil })
let ops = args.firstIndex(of: "--ops").flatMap { i in args.index(after: i) < args.endIndex ? Int(args[args.index(after: i)]) : nil } ?? 100_000
func wants(_ s: String) -> Bool { sections.isEmpty || sections.contains(s) }

var server: RedisServerProcess?
var config: RedisConfiguration
if let url = ProcessInfo.processInfo.environment["REDIS_URL"] {
    config = try RedisConfiguration(url: url)
} else {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("exitbrain-bench-\(getpid())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let s = RedisServerProcess(port: try LoopbackPort.free(), directory: dir, arguments: ["--save", "", "--appendonly", "no"])
    try await s.start()
    server = s
    config = RedisConfiguration(port: s.port)
}
/// Every section asked for, in order.
@MainActor func runSections() async throws {
    print(
        "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.operatingSystemVersionString); redis at \(config)")
    if wants("redis") {
        try await RedisBench.run(config: config, port: config.port, operations: ops)
    }
    if wants("store") {
        try await StoreBench.run(config: config, operations: min(ops, 5000))
    }
    if wants("reconcile") {
        let n =
            args.firstIndex(of: "--positions").flatMap { i in args.index(after: i) < args.endIndex ? Int(args[args.index(after: i)]) : nil } ?? 10_000
        try await ReconcileBench.run(config: config, positions: n)
    }
    if sections.contains("names") {
        // HKEYS of a 20 000-field hash, 50 times: the client's cost per reply element.
        let conn = RedisConnection(configuration: config, name: "bench-names")
        var fill: [RedisCommand] = []
        for i in 0..<20_000 { fill.append(RedisCommand(["HSET", "bench-names", "S\(i)USDT:LONG", "1"])) }
        _ = try await conn.pipeline(fill)
        let clock = ContinuousClock()
        let t = clock.now
        for _ in 0..<50 { _ = try await conn.send(RedisCommand(["HKEYS", "bench-names"])) }
        print(String(format: "HKEYS of 20 000 fields: %.2f ms each", (clock.now - t).secondsValue * 1e3 / 50))
        try await conn.send("DEL", "bench-names")
    }
    if wants("venue") {
        let n =
            args.firstIndex(of: "--positions").flatMap { i in args.index(after: i) < args.endIndex ? Int(args[args.index(after: i)]) : nil } ?? 10_000
        try await VenueBench.run(config: config, signals: min(ops, 2000), positions: n)
    }
    if wants("binance") {
        try await BinanceBench.run(config: config, signals: min(ops, 200))
    }
    if wants("decision") {
        try ServiceBench.tickDecision()
        try ServiceBench.tickDecoding()
    }
    if wants("service") {
        let seconds =
            args.firstIndex(of: "--tick-seconds").flatMap { i in args.index(after: i) < args.endIndex ? Int(args[args.index(after: i)]) : nil } ?? 10
        let triggerSeconds =
            args.firstIndex(of: "--trigger-seconds").flatMap { i in args.index(after: i) < args.endIndex ? Int(args[args.index(after: i)]) : nil }
            ?? 60
        try await ServiceBench.run(config: config, signals: min(ops, 1000), tickSeconds: seconds, triggerSeconds: triggerSeconds)
    }
}

// A failure is printed and ends the run with exit status 1 (exit flushes what was printed
// before it; a crash would lose the figures already measured).
do { try await runSections() } catch {
    print("exitbrain-bench: \(error)")
    await server?.stop()
    exit(1)
}
await server?.stop()
