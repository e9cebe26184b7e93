import Synchronization

/// A bounded queue between one producer and one consumer, where the consumer takes everything
/// that waits at once: what arrived while it was busy comes to it as one batch, in order.
///
/// `push` waits while `limit` items are queued (a storm fills the subscriber's own bounded buffer,
/// not memory); `finish` ends it: the consumer gets what is left, then nil.
public final class Backlog<Element: Sendable>: Sendable {
    private struct State {
        /// What was queued; the first `head` are taken already (a batch off the front costs its
        /// own length, not a move of everything behind it).
        var items: [Element] = []
        var head = 0
        var consumer: CheckedContinuation<Void, Never>?
        var producers: [CheckedContinuation<Void, Never>] = []
        var finished = false

        var queued: Int { items.count - head }

        /// The oldest `count` queued items, taken. An emptied queue lets a burst's storage go; a
        /// front taken past half the storage is dropped from it.
        mutating func take(_ count: Int) -> [Element] {
            let batch = Array(items[head..<head + count])
            head += count
            if head == items.count {
                if items.capacity > 4096 { items = [] } else { items.removeAll(keepingCapacity: true) }
                head = 0
            } else if head >= 1024, head * 2 >= items.count {
                items.removeFirst(head)
                head = 0
            }
            return batch
        }
    }

    private let state = Mutex(State())
    private let limit: Int

    /// A backlog of at most `limit` items (at least one).
    public init(limit: Int) { self.limit = max(1, limit) }

    /// Queues `item`, waiting first while the backlog is full. After `finish` the item is dropped.
    public func push(_ item: Element) async {
        while true {
            let full = state.withLock { $0.queued >= limit && !$0.finished }
            guard full else { break }
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let wait = state.withLock { state in
                    guard state.queued >= limit, !state.finished else { return false }
                    state.producers.append(waiter)
                    return true
                }
                if !wait { waiter.resume() }
            }
        }
        let consumer = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.finished else { return nil }
            state.items.append(item)
            defer { state.consumer = nil }
            return state.consumer
        }
        consumer?.resume()
    }

    /// Ends the backlog: the consumer gets what is queued, then nil; waiting producers go on.
    public func finish() {
        let (consumer, producers) = state.withLock { state in
            state.finished = true
            defer {
                state.consumer = nil
                state.producers = []
            }
            return (state.consumer, state.producers)
        }
        consumer?.resume()
        for producer in producers { producer.resume() }
    }

    /// Everything queued (at most `max` items, the oldest first), waiting for one when none is;
    /// nil once finished and empty, or when the calling task is cancelled.
    public func next(max: Int = .max) async -> [Element]? {
        while true {
            let (batch, producers, done) = state.withLock { state -> ([Element], [CheckedContinuation<Void, Never>], Bool) in
                guard state.queued > 0 else { return ([], [], state.finished) }
                let batch = state.take(Swift.min(Swift.max(1, max), state.queued))
                defer { state.producers = [] }
                return (batch, state.producers, false)
            }
            for producer in producers { producer.resume() }
            if !batch.isEmpty { return batch }
            if done || Task.isCancelled { return nil }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                    let wait = state.withLock { state in
                        guard state.queued == 0, !state.finished, !Task.isCancelled else { return false }
                        state.consumer = waiter
                        return true
                    }
                    if !wait { waiter.resume() }
                }
            } onCancel: {
                let consumer = state.withLock { state in
                    defer { state.consumer = nil }
                    return state.consumer
                }
                consumer?.resume()
            }
        }
    }

    /// Runs `feed` (the producer, in a task of its own) into a backlog of `limit` items while
    /// `handle` takes what waits, in batches of at most `batch`, until `feed` returns and the
    /// backlog is empty.
    public static func drain(
        limit: Int, batch: Int, feed: @escaping @Sendable (Backlog<Element>) async -> Void, _ handle: ([Element]) async -> Void
    ) async {
        let queue = Backlog<Element>(limit: limit)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await feed(queue)
                queue.finish()
            }
            while let items = await queue.next(max: batch) { await handle(items) }
            group.cancelAll()
        }
    }

    /// ``drain(limit:batch:feed:_:)`` fed from `stream`.
    public static func drain(_ stream: AsyncStream<Element>, limit: Int, batch: Int, _ handle: ([Element]) async -> Void) async {
        await drain(limit: limit, batch: batch, feed: { queue in for await item in stream { await queue.push(item) } }, handle)
    }
}
