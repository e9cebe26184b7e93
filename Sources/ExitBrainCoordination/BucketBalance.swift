/// One execution instance's entry in `{ns}:instances:execution-service`, written at every
/// lease pass: how many buckets it holds and whether it wants more. Its time is Redis's
/// (`TIME`), so instances on machines whose clocks differ agree on who is live.
public struct InstanceEntry: Sendable, Equatable, Codable {
    /// The instance id.
    public var instance: String
    /// Buckets it held after its pass.
    public var held: Int
    /// True when it holds fewer than its share.
    public var wants: Bool
    /// Redis's time of the pass, in milliseconds since 1970.
    public var atMs: Int64
    /// Its `EXECUTION_BUCKETS` (instances that count buckets differently put one symbol in
    /// different buckets: they must not share a book).
    public var buckets: Int?

    enum CodingKeys: String, CodingKey {
        case instance, held, wants
        case atMs = "at_ms"
        case buckets
    }

    /// An entry.
    public init(instance: String, held: Int, wants: Bool, atMs: Int64, buckets: Int? = nil) {
        self.instance = instance
        self.held = held
        self.wants = wants
        self.atMs = atMs
        self.buckets = buckets
    }
}

/// What one lease pass of an instance does (docs/contract.md §12), decided from what Redis
/// holds: buckets are spread evenly over the live instances (those whose entry is younger
/// than one lease time), each instance's share fixed by its rank among them. An instance over
/// its share frees the excess only while another live instance says it wants buckets and holds
/// fewer than its share; free buckets are taken up to the share, and beyond it (a dead
/// instance's buckets, whatever the shares say) when no live instance wants them.
public struct BucketBalance: Sendable, Equatable {
    /// Buckets to free.
    public var release: [Int]
    /// Free buckets to try, in order.
    public var acquire: [Int]
    /// This instance's share.
    public var share: Int
    /// The live instances, sorted.
    public var live: [String]
    /// A live instance holding buckets counts them differently (`EXECUTION_BUCKETS`): this
    /// instance takes none (the first configuration on the book wins) and says so.
    public var disagreeing: String?

    /// The decision for `me`, from the lease holders (bucket → instance; free buckets absent),
    /// the instance entries, Redis's time and the lease time. `holdOff` lists buckets this
    /// instance freed lately (left for the instance that wants them); `mayAcquire` is false while
    /// nothing may be acquired (one lease time after a Redis primary switch).
    public static func decide(
        me: String, buckets: BucketMap, holders: [Int: String], entries: [InstanceEntry], nowMs: Int64, ttlMs: Int64,
        holdOff: Set<Int> = [], mayAcquire: Bool = true
    ) -> BucketBalance {
        let fresh = entries.filter { $0.atMs >= nowMs - ttlMs }
        let live = Array(Set(fresh.map(\.instance) + [me])).sorted()
        func share(of instance: String) -> Int {
            guard let rank = live.firstIndex(of: instance) else { return 0 }
            return buckets.count / live.count + (rank < buckets.count % live.count ? 1 : 0)
        }
        var count: [String: Int] = [:]
        for holder in holders.values { count[holder, default: 0] += 1 }
        let mine = holders.filter { $0.value == me }.keys.sorted()
        let myShare = share(of: me)
        let othersWant = fresh.contains { $0.instance != me && $0.wants && count[$0.instance, default: 0] < share(of: $0.instance) }
        var decision = BucketBalance(release: [], acquire: [], share: myShare, live: live)
        if othersWant, mine.count > myShare { decision.release = Array(mine.suffix(mine.count - myShare)) }
        if let other = fresh.first(where: { $0.instance != me && $0.held > 0 && $0.buckets.map { $0 != buckets.count } ?? false }) {
            decision.disagreeing = "\(other.instance) counts \(other.buckets ?? 0) buckets, this instance \(buckets.count)"
            return decision
        }
        guard mayAcquire else { return decision }
        // Free buckets from a place of its own in the ring (where the shares of the instances
        // ranked before it end), so that instances taking at once try different ones.
        let rank = live.firstIndex(of: me) ?? 0
        let start = rank * (buckets.count / live.count) + min(rank, buckets.count % live.count)
        let free = buckets.all.map { ($0 + start) % buckets.count }.filter { holders[$0] == nil && !holdOff.contains($0) }
        if mine.count < myShare {
            decision.acquire = Array(free.prefix(myShare - mine.count))
        } else if !othersWant {
            decision.acquire = free
        }
        return decision
    }
}
