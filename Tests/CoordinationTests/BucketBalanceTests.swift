import ExitBrainCoordination
import Testing

@Suite("Bucket spreading decisions")
struct BucketBalanceTests {
    let buckets = BucketMap(count: 16)
    let now: Int64 = 1_000_000
    let ttl: Int64 = 5_000

    func entry(_ id: String, held: Int, wants: Bool, age: Int64 = 0) -> InstanceEntry {
        InstanceEntry(instance: id, held: held, wants: wants, atMs: now - age)
    }

    func holders(_ spec: [String: Range<Int>]) -> [Int: String] {
        var out: [Int: String] = [:]
        for (id, range) in spec { for b in range { out[b] = id } }
        return out
    }

    @Test func symbolsFallIntoStableBucketsSpreadOverAll() {
        #expect(buckets.bucket(of: "BTCUSDT") == buckets.bucket(of: "BTCUSDT"))
        #expect(BucketMap(count: 1).bucket(of: "ETHUSDT") == 0)
        let used = Set((0..<400).map { buckets.bucket(of: "S\($0)USDT") })
        #expect(used == Set(0..<16), "400 symbols reach every one of 16 buckets")
    }

    @Test func aLoneInstanceTakesEveryFreeBucket() {
        let d = BucketBalance.decide(me: "a", buckets: buckets, holders: [:], entries: [], nowMs: now, ttlMs: ttl)
        #expect(d.share == 16)
        #expect(Set(d.acquire) == Set(0..<16))
        #expect(d.release.isEmpty)
    }

    @Test func aNewcomerWantsHalfAndTheHolderFreesTheExcessOnlyWhenAsked() {
        let held = holders(["a": 0..<16])
        let b = BucketBalance.decide(me: "b", buckets: buckets, holders: held, entries: [entry("a", held: 16, wants: false)], nowMs: now, ttlMs: ttl)
        #expect(b.share == 8 && b.acquire.isEmpty, "nothing free yet")
        // Before b says it wants: a keeps everything.
        let quiet = BucketBalance.decide(
            me: "a", buckets: buckets, holders: held, entries: [entry("a", held: 16, wants: false), entry("b", held: 0, wants: false)], nowMs: now,
            ttlMs: ttl)
        #expect(quiet.release.isEmpty)
        let asked = BucketBalance.decide(
            me: "a", buckets: buckets, holders: held, entries: [entry("a", held: 16, wants: false), entry("b", held: 0, wants: true)], nowMs: now,
            ttlMs: ttl)
        #expect(asked.share == 8)
        #expect(asked.release == Array(8..<16))
        // b then takes exactly its share of what is free.
        let next = BucketBalance.decide(
            me: "b", buckets: buckets, holders: holders(["a": 0..<8]),
            entries: [entry("a", held: 8, wants: false), entry("b", held: 0, wants: true)],
            nowMs: now, ttlMs: ttl)
        #expect(Set(next.acquire) == Set(8..<16))
    }

    @Test func threeInstancesGetSixFiveAndFive() {
        let entries = ["a", "b", "c"].map { entry($0, held: 0, wants: true) }
        let shares = ["a", "b", "c"].map {
            BucketBalance.decide(me: $0, buckets: buckets, holders: [:], entries: entries, nowMs: now, ttlMs: ttl)
        }
        #expect(shares.map(\.share) == [6, 5, 5])
        #expect(shares.map { $0.acquire.count } == [6, 5, 5])
        #expect(Set(shares.flatMap(\.acquire)).count == 16, "their first choices do not overlap")
    }

    @Test func aDeadInstancesBucketsAreTakenWhateverTheShares() {
        // c died: its leases expired (free), its entry is still young and did not want more.
        let entries = [entry("a", held: 6, wants: false), entry("b", held: 5, wants: false), entry("c", held: 5, wants: false, age: 2_000)]
        let held = holders(["a": 0..<6, "b": 6..<11])
        let a = BucketBalance.decide(me: "a", buckets: buckets, holders: held, entries: entries, nowMs: now, ttlMs: ttl)
        #expect(Set(a.acquire) == Set(11..<16))
        #expect(a.release.isEmpty)
    }

    @Test func aStaleEntryIsNotLiveAndHoldOffAndTheSwitchWaitAreKept() {
        let entries = [entry("a", held: 8, wants: false), entry("old", held: 0, wants: true, age: 6_000)]
        let a = BucketBalance.decide(me: "a", buckets: buckets, holders: holders(["a": 0..<8]), entries: entries, nowMs: now, ttlMs: ttl)
        #expect(a.live == ["a"])
        #expect(a.share == 16 && a.release.isEmpty)
        #expect(Set(a.acquire) == Set(8..<16))
        let held = BucketBalance.decide(
            me: "a", buckets: buckets, holders: holders(["a": 0..<8]), entries: entries, nowMs: now, ttlMs: ttl, holdOff: [8, 9])
        #expect(Set(held.acquire) == Set(10..<16))
        let waiting = BucketBalance.decide(
            me: "a", buckets: buckets, holders: holders(["a": 0..<8]), entries: entries, nowMs: now, ttlMs: ttl, mayAcquire: false)
        #expect(waiting.acquire.isEmpty)
    }

    @Test func anInstanceCountingBucketsDifferentlyTakesNone() {
        let entries = [InstanceEntry(instance: "a", held: 8, wants: false, atMs: now, buckets: 8)]
        let d = BucketBalance.decide(me: "b", buckets: buckets, holders: holders(["a": 0..<8]), entries: entries, nowMs: now, ttlMs: ttl)
        #expect(d.acquire.isEmpty)
        #expect(d.disagreeing?.contains("8 buckets") == true)
        // The same count: b takes its share.
        let same = [InstanceEntry(instance: "a", held: 8, wants: false, atMs: now, buckets: 16)]
        #expect(
            !BucketBalance.decide(me: "b", buckets: buckets, holders: holders(["a": 0..<8]), entries: same, nowMs: now, ttlMs: ttl).acquire.isEmpty)
    }
}
