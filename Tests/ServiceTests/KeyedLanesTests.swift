import ExitBrainService
import Synchronization
import Testing

/// One key's items in order, different keys' side by side, never more than the capacity at once.
@Suite("Keyed lanes")
struct KeyedLanesTests {
    @Test func oneKeysItemsStayInOrderWhileOtherKeysProceedSideBySide() async {
        let lanes = KeyedLanes<(String, Int)>(width: 8, capacity: 64)
        let log = Log()
        let keys = (0..<20).map { "K\($0)USDT" }
        await withDiscardingTaskGroup { group in
            group.addTask {
                await lanes.run { item in
                    log.start()
                    // A handler that waits (a round trip): other lanes run meanwhile.
                    try? await Task.sleep(for: .milliseconds(Int.random(in: 0...2)))
                    log.end(item.0, item.1)
                }
            }
            for n in 0..<25 {
                for key in keys { await lanes.submit((key, n), key: key) }
            }
            await lanes.drained()
            #expect(lanes.inFlight == 0)
            lanes.finish()
        }
        let seen = log.seen
        #expect(seen.count == keys.count)
        for key in keys { #expect(seen[key] == Array(0..<25), "\(key): \(seen[key] ?? [])") }
        #expect(log.mostRunning > 1, "different keys ran side by side")
        #expect(log.mostRunning <= 8, "at most one item per lane at a time")
    }

    @Test func aProducerPastTheCapacityWaitsForRoom() async {
        let lanes = KeyedLanes<Int>(width: 4, capacity: 3)
        let progress = Progress()
        await withDiscardingTaskGroup { group in
            group.addTask {
                await lanes.run { _ in
                    // Every item waits until the test opens the gate.
                    while !progress.isOpen { try? await Task.sleep(for: .milliseconds(1)) }
                }
            }
            group.addTask {
                for n in 0..<10 {
                    await lanes.submit(n, key: "K\(n)")
                    progress.submitted()
                }
            }
            try? await Task.sleep(for: .milliseconds(200))
            #expect(progress.submissions == 3, "three fit; the fourth waits")
            #expect(lanes.inFlight == 3)
            progress.open()
            while progress.submissions < 10 { try? await Task.sleep(for: .milliseconds(1)) }
            await lanes.drained()
            #expect(lanes.inFlight == 0)
            lanes.finish()
        }
    }
    @Test func lanesCancelledWhileFullLetTheirProducerGo() async {
        let lanes = KeyedLanes<Int>(width: 2, capacity: 2)
        let progress = Progress()
        let runner = Task {
            // Items that never finish on their own: only cancellation ends them.
            await lanes.run { _ in
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(1)) }
            }
        }
        let producer = Task {
            for n in 0..<5 {
                await lanes.submit(n, key: "K\(n)")
                progress.submitted()
            }
            await lanes.drained()
            progress.open()  // here: the producer is through
        }
        try? await Task.sleep(for: .milliseconds(100))
        #expect(progress.submissions == 2, "the lanes are full")
        runner.cancel()
        await runner.value
        // A service stopping with full lanes: its producer is let go, nothing waits for ever.
        for _ in 0..<500 where !progress.isOpen { try? await Task.sleep(for: .milliseconds(10)) }
        #expect(progress.isOpen, "the producer still waits for the stopped lanes")
        #expect(progress.submissions == 5)
        producer.cancel()
    }

}

/// What the handlers saw.
private final class Log: Sendable {
    private struct State {
        var seen: [String: [Int]] = [:]
        var running = 0
        var mostRunning = 0
    }

    private let state = Mutex(State())
    func start() {
        state.withLock {
            $0.running += 1
            $0.mostRunning = max($0.mostRunning, $0.running)
        }
    }
    func end(_ key: String, _ n: Int) {
        state.withLock {
            $0.running -= 1
            $0.seen[key, default: []].append(n)
        }
    }
    var seen: [String: [Int]] { state.withLock { $0.seen } }
    var mostRunning: Int { state.withLock { $0.mostRunning } }
}

/// A producer's submissions and the handlers' gate.
private final class Progress: Sendable {
    private let state = Mutex((submitted: 0, open: false))
    func submitted() { state.withLock { $0.submitted += 1 } }
    func open() { state.withLock { $0.open = true } }
    var submissions: Int { state.withLock { $0.submitted } }
    var isOpen: Bool { state.withLock { $0.open } }
}
