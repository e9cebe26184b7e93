import ExitBrainCoordination
import Synchronization
import Testing

/// The queue between the subscription's validation and the engine: batches of what waited,
/// in order, bounded, and an end.
@Suite("Backlog")
struct BacklogTests {
    @Test func whatWaitedComesAsOneBatchInOrder() async {
        let backlog = Backlog<Int>(limit: 100)
        for n in 0..<5 { await backlog.push(n) }
        #expect(await backlog.next() == [0, 1, 2, 3, 4])
        await backlog.push(5)
        #expect(await backlog.next(max: 10) == [5])
    }

    @Test func aDrainedStreamComesInBatchesOfAtMostTheLimitInOrderAndEndsWithIt() async {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        for n in 0..<1_000 { continuation.yield(n) }
        continuation.finish()
        var batches: [[Int]] = []
        await Backlog.drain(stream, limit: 100, batch: 64) { batches.append($0) }
        #expect(batches.flatMap { $0 } == Array(0..<1_000))
        #expect(batches.allSatisfy { !$0.isEmpty && $0.count <= 64 }, "\(batches.map(\.count))")
    }

    @Test func aBatchTakesAtMostMaxAndLeavesTheRestInOrder() async {
        let backlog = Backlog<Int>(limit: 100)
        for n in 0..<7 { await backlog.push(n) }
        #expect(await backlog.next(max: 3) == [0, 1, 2])
        #expect(await backlog.next(max: 3) == [3, 4, 5])
        #expect(await backlog.next(max: 3) == [6])
    }

    @Test func batchesOffTheFrontOfALongQueueKeepTheOrderAndTheBound() async {
        let backlog = Backlog<Int>(limit: 3_000)
        for n in 0..<3_000 { await backlog.push(n) }
        var taken: [Int] = []
        // 1 500 taken: the front is dropped from the storage; the room is the limit's again.
        while taken.count < 1_500, let batch = await backlog.next(max: 100) { taken += batch }
        let pushed = Mutex(0)
        let producer = Task {
            for n in 3_000..<4_600 {
                await backlog.push(n)
                pushed.withLock { $0 += 1 }
            }
        }
        // Waits for the producer to fill the room (however busy the machine), then a little more:
        // it must stop there.
        let deadline = ContinuousClock.now + .seconds(10)
        while pushed.withLock({ $0 }) < 1_500, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        try? await Task.sleep(for: .milliseconds(50))
        #expect(pushed.withLock { $0 } == 1_500, "1 500 queued after 1 500 taken fill the backlog again")
        while taken.count < 4_600, let batch = await backlog.next(max: 256) { taken += batch }
        await producer.value
        #expect(taken == Array(0..<4_600))
    }

    @Test func theConsumerWaitsForTheFirstItemAndEndsAfterFinish() async {
        let backlog = Backlog<Int>(limit: 10)
        let consumer = Task { () -> [[Int]] in
            var batches: [[Int]] = []
            while let batch = await backlog.next() { batches.append(batch) }
            return batches
        }
        try? await Task.sleep(for: .milliseconds(20))
        await backlog.push(1)
        try? await Task.sleep(for: .milliseconds(20))
        await backlog.push(2)
        await backlog.push(3)
        backlog.finish()
        let batches = await consumer.value
        #expect(batches.flatMap { $0 } == [1, 2, 3], "nothing lost or reordered: \(batches)")
        #expect(batches.first == [1], "the first item woke the waiting consumer on its own")
    }

    @Test func aFullBacklogHoldsTheProducerUntilTheConsumerTakes() async {
        let backlog = Backlog<Int>(limit: 2)
        let pushed = Mutex(0)
        let producer = Task {
            for n in 0..<5 {
                await backlog.push(n)
                pushed.withLock { $0 += 1 }
            }
        }
        try? await Task.sleep(for: .milliseconds(50))
        #expect(pushed.withLock { $0 } == 2, "the third push waits while two are queued")
        var taken: [Int] = []
        while taken.count < 5, let batch = await backlog.next() { taken += batch }
        await producer.value
        #expect(taken == [0, 1, 2, 3, 4])
    }

    @Test func aCancelledConsumerStopsWaiting() async {
        let backlog = Backlog<Int>(limit: 10)
        let consumer = Task { await backlog.next() }
        try? await Task.sleep(for: .milliseconds(20))
        consumer.cancel()
        #expect(await consumer.value == nil)
    }
}
