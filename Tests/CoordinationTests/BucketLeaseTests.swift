import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import RedisClient
import Support
import Testing
import Venue

@Suite("Bucket leases and fenced writes on real Redis", .enabled(if: TestRedis.enabled))
struct BucketLeaseTests {
    let buckets = BucketMap(count: 4)

    @Test func acquisitionIncrementsTheFenceAndRenewalKeepsOnlyWhatIsStillHeld() async throws {
        let f = try await CoordinationFixture(label: "lease")
        let leases = BucketLeases(redis: f.redis, namespace: f.namespace, buckets: buckets, service: "execution-service")
        let a = LeaseTable(instance: "aaaa", buckets: buckets, ttl: .seconds(5))
        let b = LeaseTable(instance: "bbbb", buckets: buckets, ttl: .seconds(5))
        #expect(try await leases.acquire([0, 1], into: a) == [0, 1])
        #expect(try await leases.acquire([1, 2], into: b) == [2], "a held lease is not taken")
        #expect(a.held == [0: 1, 1: 1])
        let view = try await leases.read()
        #expect(view.holders == [0: "aaaa", 1: "aaaa", 2: "bbbb"])
        #expect(view.nowMs > 1_700_000_000_000)
        // a's lease on 1 expires and b takes it: the token moves on, a's renewal finds it lost.
        _ = try await f.redis.send(RedisCommand(["DEL", f.namespace.lease(1)]))
        #expect(try await leases.acquire([1], into: b) == [1])
        #expect(b.held[1] == 2)
        #expect(try await leases.renew(a) == [1])
        #expect(a.held.keys.sorted() == [0])
        try await leases.release([0], from: a)
        #expect(try await leases.read().holders[0] == nil)
        // A release by someone who does not hold it frees nothing.
        try await leases.release([2], from: a)
        #expect(try await leases.read().holders[2] == "bbbb")
        await f.cleanup()
    }

    @Test func aStaleTokenIsFencedAndNothingIsWritten() async throws {
        let f = try await CoordinationFixture(label: "fence")
        let leases = BucketLeases(redis: f.redis, namespace: f.namespace, buckets: buckets, service: "execution-service")
        let a = LeaseTable(instance: "aaaa", buckets: buckets, ttl: .seconds(5))
        let b = LeaseTable(instance: "bbbb", buckets: buckets, ttl: .seconds(5))
        let symbol = "BTCUSDT"
        let bucket = buckets.bucket(of: symbol)
        let storeA = PlanStore(redis: f.redis, namespace: f.namespace, bus: f.bus, fencing: a)
        let storeB = PlanStore(redis: f.redis, namespace: f.namespace, bus: f.bus, fencing: b)
        // Without the lease, nothing is even sent.
        await #expect(throws: CoordinationError.self) {
            _ = try await storeA.getOrCreate(try CoordinationFixture.plan(symbol: symbol), retroactive: false)
        }
        #expect(try await leases.acquire([bucket], into: a) == [bucket])
        let created = try await storeA.getOrCreate(try CoordinationFixture.plan(symbol: symbol), retroactive: false)
        #expect(created.created)
        // a pauses past its lease; b takes the bucket.
        _ = try await f.redis.send(RedisCommand(["DEL", f.namespace.lease(bucket)]))
        #expect(try await leases.acquire([bucket], into: b) == [bucket])
        var next = created.plan
        next.version += 1
        do {
            _ = try await storeA.update(next, expectedVersion: created.plan.version, event: nil, position: nil, orders: [], now: Date())
            Issue.record("a stale token wrote")
        } catch {
            #expect(error.code == .fenced, "\(error)")
        }
        #expect(a.held.isEmpty, "a FENCED answer drops the bucket at once")
        #expect(a.takeFenced() == [bucket])
        #expect(try await f.plans.get(created.plan.key)?.version == created.plan.version, "the stale write changed nothing")
        // An intent under a's old token is refused too; b's goes in.
        let request = OrderRequest(
            clientOrderId: "eb-test-1", symbol: symbol, side: .sell, positionSide: .long, purpose: .exit, type: .market, quantity: 1)
        let intent = try OrderWrite.intent(OrderRecord(intent: request, key: created.plan.key, planId: nil, legIndex: nil, at: Date()))
        let bookA = RedisBook(plans: storeA, positions: f.positions, bus: f.bus)
        let bookB = RedisBook(plans: storeB, positions: f.positions, bus: f.bus)
        await #expect(throws: CoordinationError.self) { _ = try await bookA.insertIntent(intent) }
        #expect(try await bookB.insertIntent(intent))
        #expect(try await storeB.update(next, expectedVersion: created.plan.version, event: nil, position: nil, orders: [], now: Date()) == .written)
        await f.cleanup()
    }
}
