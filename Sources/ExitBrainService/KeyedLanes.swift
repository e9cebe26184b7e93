import Synchronization

/// Work for different keys side by side, work for one key in order.
///
/// Each item goes to the lane its key falls in, and each lane handles its items one after
/// another: two items of one key (one symbol's events) never overtake each other, while
/// items of keys in different lanes proceed together. At most `capacity` items are queued or
/// running at once; a producer past that waits in ``submit(_:key:)``, so a storm of events
/// cannot exhaust memory.
///
/// One producer submits; ``run(_:)`` runs the lanes until ``finish()`` or until its task is
/// cancelled. Once the lanes have stopped, nothing waits for them: a submission is dropped and
/// ``drained()`` returns at once (a service stopping with full lanes does not hang).
public final class KeyedLanes<Item: Sendable>: Sendable {
    private struct State {
        var inFlight = 0
        var waitingForRoom: [CheckedContinuation<Void, Never>] = []
        var waitingForEmpty: [CheckedContinuation<Void, Never>] = []
        /// The lanes stopped (finished or cancelled): nothing waits for them any more.
        var ended = false
    }

    /// Lanes, each a queue handled in order.
    public let width: Int
    /// Items queued or running at most.
    public let capacity: Int
    private let lanes: [(stream: AsyncStream<Item>, continuation: AsyncStream<Item>.Continuation)]
    private let state = Mutex(State())

    /// `width` lanes holding `capacity` items in all.
    public init(width: Int, capacity: Int) {
        precondition(width > 0 && capacity > 0, "lanes need a width and a capacity")
        self.width = width
        self.capacity = capacity
        lanes = (0..<width).map { _ in AsyncStream.makeStream(of: Item.self) }
    }

    /// The lane of `key`.
    public func lane(of key: String) -> Int {
        var hasher = Hasher()
        hasher.combine(key)
        return Int(UInt(bitPattern: hasher.finalize()) % UInt(width))
    }

    /// Queues `item` on the lane of `key`, after waiting for room; drops it once the lanes
    /// have stopped.
    public func submit(_ item: Item, key: String) async {
        await withCheckedContinuation { (room: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s in
                guard s.inFlight < capacity || s.ended else {
                    s.waitingForRoom.append(room)
                    return false
                }
                s.inFlight += 1
                return true
            }
            if now { room.resume() }
        }
        guard !state.withLock({ $0.ended }) else { return }
        lanes[lane(of: key)].continuation.yield(item)
    }

    /// Returns once every item submitted so far is handled (for work that must follow all of
    /// it, such as a reconciliation after a gap in a venue's events).
    public func drained() async {
        await withCheckedContinuation { (empty: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s in
                guard s.inFlight > 0, !s.ended else { return true }
                s.waitingForEmpty.append(empty)
                return false
            }
            if now { empty.resume() }
        }
    }

    /// Items queued or running now.
    public var inFlight: Int { state.withLock { $0.inFlight } }

    /// Ends the lanes: ``run(_:)`` returns once what was submitted is handled.
    public func finish() {
        for lane in lanes { lane.continuation.finish() }
    }

    /// Handles every lane's items with `handle` until ``finish()`` (what was submitted is
    /// handled first) or until cancelled; then the lanes have stopped.
    public func run(_ handle: @escaping @Sendable (Item) async -> Void) async {
        await withDiscardingTaskGroup { group in
            for lane in lanes {
                group.addTask {
                    for await item in lane.stream {
                        await handle(item)
                        self.done()
                    }
                }
            }
        }
        let waiters = state.withLock { s in
            s.ended = true
            defer {
                s.waitingForRoom = []
                s.waitingForEmpty = []
            }
            return s.waitingForRoom + s.waitingForEmpty
        }
        for waiter in waiters { waiter.resume() }
    }

    /// One item handled: its room goes to the first producer waiting, if any.
    private func done() {
        let (room, empty) = state.withLock { s -> (CheckedContinuation<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            if !s.waitingForRoom.isEmpty { return (s.waitingForRoom.removeFirst(), []) }
            s.inFlight -= 1
            guard s.inFlight == 0 else { return (nil, []) }
            defer { s.waitingForEmpty = [] }
            return (nil, s.waitingForEmpty)
        }
        room?.resume()
        for waiter in empty { waiter.resume() }
    }
}
