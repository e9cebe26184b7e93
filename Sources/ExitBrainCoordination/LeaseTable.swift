import Synchronization

/// The bucket leases this execution instance holds, as far as it knows (docs/contract.md §12):
/// each with its fencing token and the instant until which the instance may act on it (the
/// last renewal's send time plus nine tenths of the lease time: Redis's expiry is later).
///
/// Every plan write and order intent asks it for the fence of its symbol, and every request to
/// the venue asks whether the bucket is still held: an instance that was stopped past its
/// lease time (SIGSTOP, a long pause) finds its leases expired when it wakes, before it sends
/// anything. A `FENCED` answer from Redis drops the bucket at once.
public final class LeaseTable: Sendable {
    /// What a write carries to prove its bucket's lease.
    public struct Fence: Sendable, Equatable {
        /// The bucket.
        public let bucket: Int
        /// Its fencing token when this instance acquired it.
        public let token: Int64
        /// This instance's id (the lease's value).
        public let instance: String
    }

    /// This instance's id.
    public let instance: String
    /// The buckets.
    public let buckets: BucketMap
    /// The lease time (`LEASE_TTL_S`).
    public let ttl: Duration

    private struct Held {
        var token: Int64
        var validUntil: ContinuousClock.Instant
    }

    private struct State {
        var held: [Int: Held] = [:]
        /// Buckets dropped on a FENCED answer, until the lease loop has seen them.
        var fenced: Set<Int> = []
        /// Buckets other instances held at the last lease pass.
        var others: Set<Int> = []
    }

    private let state = Mutex(State())
    private let clock = ContinuousClock()

    /// A table for `instance`, empty.
    public init(instance: String, buckets: BucketMap, ttl: Duration) {
        self.instance = instance
        self.buckets = buckets
        self.ttl = ttl
    }

    /// The fence of the symbol's bucket, nil when this instance does not hold it (or its
    /// lease may have expired).
    public func fence(for symbol: String) -> Fence? {
        let bucket = buckets.bucket(of: symbol)
        let now = clock.now
        return state.withLock { s in
            guard let held = s.held[bucket], now < held.validUntil else { return nil }
            return Fence(bucket: bucket, token: held.token, instance: instance)
        }
    }

    /// Whether this instance may act on the symbol now.
    public func holds(_ symbol: String) -> Bool { fence(for: symbol) != nil }

    /// The buckets held and their tokens, expired ones left out.
    public var held: [Int: Int64] {
        let now = clock.now
        return state.withLock { s in s.held.filter { now < $0.value.validUntil }.mapValues(\.token) }
    }

    /// The buckets in the table, with the instant each may be acted on until (the lease loop's view).
    public func entries() -> [Int: (token: Int64, validUntil: ContinuousClock.Instant)] {
        state.withLock { s in s.held.mapValues { ($0.token, $0.validUntil) } }
    }

    /// A lease acquired or renewed by a request sent at `sentAt`.
    public func hold(_ bucket: Int, token: Int64, sentAt: ContinuousClock.Instant) {
        let until = sentAt + ttl * 0.9
        state.withLock { $0.held[bucket] = Held(token: token, validUntil: until) }
    }

    /// Forgets a bucket (released, lost, or found held by another).
    public func drop(_ bucket: Int) {
        _ = state.withLock { $0.held.removeValue(forKey: bucket) }
    }

    /// Redis refused a write under `fence`: the bucket is dropped at once, unless it has been
    /// acquired again since under a newer token.
    public func fenced(_ fence: Fence) {
        state.withLock { s in
            guard s.held[fence.bucket]?.token == fence.token else { return }
            s.held[fence.bucket] = nil
            s.fenced.insert(fence.bucket)
        }
    }

    /// The buckets other live instances hold, as the last lease pass read them.
    public func noteOthers(_ buckets: Set<Int>) { state.withLock { $0.others = buckets } }

    /// Whether another instance held the symbol's bucket at the last lease pass (its signals
    /// are that instance's; a signal for a bucket nobody holds may become this one's).
    public func heldByAnother(_ symbol: String) -> Bool {
        let bucket = buckets.bucket(of: symbol)
        return state.withLock { $0.others.contains(bucket) }
    }

    /// The buckets dropped on FENCED answers since the last call.
    public func takeFenced() -> Set<Int> {
        state.withLock { s in
            defer { s.fenced = [] }
            return s.fenced
        }
    }
}
