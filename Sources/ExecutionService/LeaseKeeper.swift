import ExitBrainCoordination
import ExitBrainService
import Foundation
import Logging
import Synchronization

/// The execution instance's lease loop (docs/contract.md §12): every third of a lease time at
/// most (and at least every half second) it reads the leases and the instances' entries,
/// renews what it holds, frees what exceeds its share while another instance wants buckets,
/// takes free ones, and writes its own entry. What changed goes to the engine through
/// ``changes`` (a reconciliation can take seconds; renewals never wait for it).
///
/// After a Redis primary switch nothing is acquired for one lease time: the new primary may
/// have lost the last writes of leases (asynchronous replication), and a lease it lost may
/// still be acted on by its holder until it expires there.
final class LeaseKeeper: Sendable {
    /// What a pass changed.
    struct Change: Sendable {
        var acquired: Set<Int> = []
        var lost: Set<Int> = []
        var isEmpty: Bool { acquired.isEmpty && lost.isEmpty }
    }

    /// What health shows.
    struct Status: Sendable {
        var share = 0
        var live = 0
        var lastPass: Date?
        var waitingAfterSwitch = false
        var error: String?
        /// Another live instance counts the buckets differently.
        var disagreement: String?
    }

    let leases: BucketLeases
    let table: LeaseTable
    let runtime: ServiceRuntime
    let logger: Logger
    /// Changes for the engine, in order.
    let changes: AsyncStream<Change>
    private let changeFeed: AsyncStream<Change>.Continuation
    private let status = Mutex(Status())
    private let clock = ContinuousClock()

    init(leases: BucketLeases, table: LeaseTable, runtime: ServiceRuntime, logger: Logger) {
        self.leases = leases
        self.table = table
        self.runtime = runtime
        self.logger = logger
        (changes, changeFeed) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// The status for health.
    var current: Status { status.withLock { $0 } }

    /// The period of a pass.
    var period: Duration { min(table.ttl / 3, .milliseconds(500)) }

    /// Runs passes until cancelled.
    func run() async {
        var holdOff: [Int: ContinuousClock.Instant] = [:]
        var lastRenewal = clock.now
        var switchSeen = runtime.lastPrimarySwitch
        var acquireAfter = clock.now
        while !Task.isCancelled {
            if runtime.lastPrimarySwitch != switchSeen {
                switchSeen = runtime.lastPrimarySwitch
                acquireAfter = clock.now + table.ttl
                logger.warning("Redis primary switched; no bucket is acquired for one lease time", metadata: ["ttl_s": "\(table.ttl.secondsValue)"])
            }
            holdOff = holdOff.filter { $0.value > clock.now }
            var change = Change(lost: table.takeFenced())
            do {
                try await pass(&change, holdOff: &holdOff, lastRenewal: &lastRenewal, mayAcquire: clock.now >= acquireAfter)
                status.withLock { $0.error = nil }
            } catch {
                status.withLock { $0.error = "\(error)" }
                logger.debug("lease pass failed", metadata: ["error": "\(error)"])
            }
            status.withLock { $0.waitingAfterSwitch = clock.now < acquireAfter }
            if !change.isEmpty { changeFeed.yield(change) }
            try? await Task.sleep(for: period)
        }
        changeFeed.finish()
    }

    private func pass(
        _ change: inout Change, holdOff: inout [Int: ContinuousClock.Instant], lastRenewal: inout ContinuousClock.Instant, mayAcquire: Bool
    ) async throws(CoordinationError) {
        let me = table.instance
        var view = try await leases.read()
        // Held by an instance that wrote its entry within the last three passes: it is alive
        // and takes the bucket's signals. A holder silent for longer is likely dead: a signal
        // for its bucket waits here for one lease time.
        let recentMs = Int64((period * 3).secondsValue * 1000)
        let alive = Set(view.entries.filter { $0.atMs >= view.nowMs - recentMs }.map(\.instance))
        table.noteOthers(Set(view.holders.filter { $0.value != me && alive.contains($0.value) }.keys))
        // Held here, another's (or nobody's) in Redis: lost.
        for bucket in table.entries().keys where view.holders[bucket] != me {
            table.drop(bucket)
            change.lost.insert(bucket)
        }
        if clock.now - lastRenewal >= table.ttl / 3 {
            lastRenewal = clock.now
            for bucket in try await leases.renew(table) {
                change.lost.insert(bucket)
                view.holders[bucket] = nil
            }
        }
        let ttlMs = Int64(table.ttl.secondsValue * 1000)
        let decision = BucketBalance.decide(
            me: me, buckets: table.buckets, holders: view.holders, entries: view.entries, nowMs: view.nowMs, ttlMs: ttlMs,
            holdOff: Set(holdOff.keys), mayAcquire: mayAcquire)
        if !decision.release.isEmpty {
            try await leases.release(decision.release, from: table)
            for bucket in decision.release {
                holdOff[bucket] = clock.now + table.ttl
                change.lost.insert(bucket)
            }
            logger.info("buckets freed for another instance", metadata: ["buckets": "\(decision.release)", "share": "\(decision.share)"])
        }
        let taken = try await leases.acquire(decision.acquire, into: table)
        change.acquired.formUnion(taken)
        change.lost.subtract(taken)
        let held = table.held.count
        let stale = view.entries.filter { $0.atMs < view.nowMs - 10 * ttlMs }.map(\.instance)
        try await leases.announce(
            InstanceEntry(instance: me, held: held, wants: held < decision.share, atMs: view.nowMs, buckets: table.buckets.count),
            removing: stale,
            keepFor: table.ttl * 10)
        let before = status.withLock { s -> String? in
            defer {
                s.share = decision.share
                s.live = decision.live.count
                s.lastPass = Date()
                s.disagreement = decision.disagreeing
            }
            return s.disagreement
        }
        // Said once when it starts (health says it for as long as it lasts).
        if let disagreement = decision.disagreeing, before == nil {
            logger.error(
                "another execution instance counts the buckets differently; this one takes none", metadata: ["disagreement": "\(disagreement)"])
        }
    }

    /// Frees every bucket held and removes the instance's entry (a graceful stop): another
    /// instance takes them at its next pass instead of after the lease time.
    func releaseAll() async {
        let held = Array(table.held.keys)
        do {
            try await leases.release(held, from: table)
            try await leases.withdraw(table.instance)
            if !held.isEmpty { logger.info("bucket leases released", metadata: ["buckets": "\(held.sorted())"]) }
        } catch {
            logger.warning("bucket leases not released; they expire after their lease time", metadata: ["error": "\(error)"])
        }
    }
}
