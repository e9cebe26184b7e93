import ExitBrainDomain
import Foundation
import Synchronization

/// A copy of the book's plans (and, for the monitor, positions) as last read, refreshed
/// cheaply: between full reads it takes the field names of each hash (one round trip) and then
/// only the records that are new or named by an event (one more), so a steady refresh does not
/// move every plan. A full read (one round trip for every hash, decoding only records whose
/// bytes changed) comes every `fullReadEvery`, on the first refresh, after
/// ``requireFullRead()`` and whenever the caller asks for one.
///
/// It holds only what was read: a plan the caller wrote itself is in the mirror once a read
/// has seen it. A mirror that does not retain records (the execution service's, which keeps
/// its own plan cache) holds the field names and a digest of each record's bytes, and every
/// refresh hands over the plans it read: a periodic full read decodes only the plans whose
/// bytes changed since the last read, a full read asked for (``requireFullRead()``) every plan.
public final class BookMirror: Sendable {
    /// A record that could not be read: left as it is, reported once per read.
    public struct Unreadable: Sendable, Equatable {
        /// `PLAN_UNREADABLE` or `POSITION_UNREADABLE`.
        public let code: String
        /// The hash field.
        public let field: String
        /// Why.
        public let why: String
    }

    /// What one refresh found.
    public struct Refresh: Sendable {
        /// Whether it was a full read.
        public var full = false
        /// Positions whose record or plan changed (after a full read: every one that did).
        public var changed: Set<PositionKey> = []
        /// Records that could not be read.
        public var unreadable: [Unreadable] = []
        /// The plan hash's field names at the read.
        public var planFields: [String] = []
        /// Plans the mirror held that are no longer in the hash.
        public var plansGone: Set<PositionKey> = []
        /// For a mirror that does not retain records, the plans this refresh read (after a
        /// periodic full read: those whose bytes changed; after one asked for: every plan). A
        /// retaining mirror leaves it empty: its callers read ``plans``.
        public var readPlans: [PositionKey: ExitPlan] = [:]
    }

    /// One hash's records as read, by field and by position.
    private struct Records<Record: Sendable>: Sendable {
        /// The bytes as read (a retaining mirror) or their digest (one that does not).
        var byField: [String: (bytes: [UInt8], digest: UInt64, key: PositionKey)] = [:]
        var byKey: [PositionKey: Record] = [:]
        /// Keep bytes and records between refreshes (else only the field names).
        var retain = true
        /// `PLAN_UNREADABLE` or `POSITION_UNREADABLE`.
        let unreadableCode: String
        /// Reads one field's bytes, checking that the record is the field's.
        let decode: @Sendable (String, [UInt8]) throws(CoordinationError) -> (PositionKey, Record)

        /// Reads `bytes`, unless they are the ones held (then `changed` only if `named`). Returns the
        /// record to a caller that does not retain records. With `everything`, a mirror that does
        /// not retain records decodes even bytes whose digest it holds.
        @discardableResult
        mutating func read(_ field: String, _ bytes: [UInt8], named: Bool, everything: Bool = true, _ refresh: inout Refresh) -> Record? {
            let digest = retain ? 0 : FNV1a.hash64(bytes)
            if let held = byField[field], retain ? held.bytes == bytes : !everything && held.digest == digest {
                // A record an event named counts as changed even when its bytes are the ones
                // held: the caller looks at it again.
                if named { refresh.changed.insert(held.key) }
                return nil
            }
            drop(field, &refresh.changed)
            do {
                let (key, record) = try decode(field, bytes)
                byField[field] = (retain ? bytes : [], digest, key)
                if retain { byKey[key] = record }
                refresh.changed.insert(key)
                return retain ? nil : record
            } catch {
                refresh.unreadable.append(Unreadable(code: unreadableCode, field: field, why: error.message))
                return nil
            }
        }

        /// Forgets a field; the position it held, if it held one.
        @discardableResult
        mutating func drop(_ field: String, _ changed: inout Set<PositionKey>) -> PositionKey? {
            guard let held = byField.removeValue(forKey: field) else { return nil }
            byKey[held.key] = nil
            changed.insert(held.key)
            return held.key
        }

        /// After a full read: drops what the read did not see; the positions dropped.
        @discardableResult
        mutating func keepOnly(_ seen: Set<String>, _ changed: inout Set<PositionKey>) -> [PositionKey] {
            let unseen = byField.keys.filter { !seen.contains($0) }
            return unseen.compactMap { drop($0, &changed) }
        }

        /// Between full reads: the names not held yet, and the held ones an event named. Drops
        /// what is gone; when every held record is among the names (the usual case), nothing
        /// was removed and no set is built.
        mutating func toFetch(_ fields: [String], named: Set<String>, _ changed: inout Set<PositionKey>, gone: inout Set<PositionKey>) -> [String] {
            var fetch: [String] = []
            var known = 0
            for field in fields {
                if byField[field] == nil {
                    fetch.append(field)
                } else {
                    known += 1
                    if named.contains(field) { fetch.append(field) }
                }
            }
            if known != byField.count { gone.formUnion(keepOnly(Set(fields), &changed)) }
            return fetch
        }
    }

    private struct State {
        var plans = Records<ExitPlan>(unreadableCode: "PLAN_UNREADABLE") { field, bytes throws(CoordinationError) in
            let plan: ExitPlan
            do throws(DomainError) { plan = try PlanJSON.decode(bytes) } catch { throw CoordinationError(.corruptRecord, error.message) }
            guard plan.key.description == field else { throw CoordinationError(.corruptRecord, "the plan stored under \(field) is for \(plan.key)") }
            return (plan.key, plan)
        }
        var positions = Records<PositionSnapshot>(unreadableCode: "POSITION_UNREADABLE") { field, bytes throws(CoordinationError) in
            let snapshot = try PositionStore.decode(bytes, field: field)
            return (snapshot.key, snapshot)
        }
        var needFullRead = true
        /// The next full read decodes every record, digests or not (asked for, or the first).
        var decodeEverything = true
        var lastFullRead: ContinuousClock.Instant?
    }

    private let book: any BookReading
    private let hashes: [BookHash]
    private let state = Mutex(State())
    private let clock = ContinuousClock()
    /// How often a refresh reads every record anyway.
    public let fullReadEvery: Duration

    /// A mirror of `hashes` of `book`; with `retainsRecords` false it keeps only field names.
    public init(book: any BookReading, hashes: [BookHash], retainsRecords: Bool = true, fullReadEvery: Duration = .seconds(60)) {
        self.book = book
        self.hashes = hashes
        self.fullReadEvery = fullReadEvery
        state.withLock {
            $0.plans.retain = retainsRecords
            $0.positions.retain = retainsRecords
        }
    }

    /// Plans by position, as last read.
    public var plans: [PositionKey: ExitPlan] { state.withLock { $0.plans.byKey } }
    /// Positions by key, as last read.
    public var positions: [PositionKey: PositionSnapshot] { state.withLock { $0.positions.byKey } }

    /// The next refresh reads and decodes everything (events may have been lost, a pass failed
    /// part-way, the caller took on plans it did not hold).
    public func requireFullRead() {
        state.withLock {
            $0.needFullRead = true
            $0.decodeEverything = true
        }
    }

    /// For a mirror that does not retain records: the caller holds this plan already (it wrote
    /// it), so a refresh between full reads does not read it back. A retaining mirror holds only
    /// what it read, and ignores this.
    public func noteKnown(plan key: PositionKey) {
        state.withLock { s in
            guard !s.plans.retain, s.plans.byField[key.description] == nil else { return }
            s.plans.byField[key.description] = ([], 0, key)
        }
    }

    /// Drops a plan from the mirror (the caller closed it).
    public func forgetPlan(_ key: PositionKey) {
        state.withLock { s in
            var ignored: Set<PositionKey> = []
            s.plans.drop(key.description, &ignored)
        }
    }

    /// Reads what changed since the last refresh. `named` are fields (`SYMBOL:SIDE`) an event
    /// said changed: they are read again with the new ones, in both hashes (a fill changes a
    /// plan and its position, and only one of the two events may have arrived). With
    /// `forceFull`, everything is read.
    public func refresh(named: Set<String> = [], forceFull: Bool = false) async throws(CoordinationError) -> Refresh {
        let now = clock.now
        let (full, everything) = state.withLock { s -> (Bool, Bool) in
            let due = forceFull || s.needFullRead || s.lastFullRead.map { now - $0 >= fullReadEvery } ?? true
            let everything = due && s.decodeEverything
            // Cleared before the read: a need noted while it is under way asks for the next one.
            if due {
                s.needFullRead = false
                s.decodeEverything = false
            }
            return (due, everything)
        }
        do {
            return full ? try await fullRead(at: now, everything: everything) : try await namesThenNew(named: named)
        } catch {
            if full { requireFullRead() }
            throw error
        }
    }

    private func fullRead(at now: ContinuousClock.Instant, everything: Bool) async throws(CoordinationError) -> Refresh {
        let all = try await book.readAll(hashes)
        return state.withLock { s in
            s.lastFullRead = now
            var refresh = Refresh()
            refresh.full = true
            for (hash, records) in zip(hashes, all) {
                let seen = Set(records.map(\.field))
                switch hash {
                case .plans:
                    refresh.planFields = records.map(\.field)
                    for (field, bytes) in records {
                        if let plan = s.plans.read(field, bytes, named: false, everything: everything, &refresh) {
                            refresh.readPlans[plan.key] = plan
                        }
                    }
                    refresh.plansGone.formUnion(s.plans.keepOnly(seen, &refresh.changed))
                case .positions:
                    for (field, bytes) in records { s.positions.read(field, bytes, named: false, &refresh) }
                    s.positions.keepOnly(seen, &refresh.changed)
                }
            }
            return refresh
        }
    }

    private func namesThenNew(named: Set<String>) async throws(CoordinationError) -> Refresh {
        let names = try await book.fieldNames(hashes)
        var refresh = Refresh()
        var ignored: Set<PositionKey> = []
        let requests: [(hash: BookHash, fields: [String])] = state.withLock { s in
            zip(hashes, names).map { hash, fields in
                switch hash {
                case .plans: (hash, s.plans.toFetch(fields, named: named, &refresh.changed, gone: &refresh.plansGone))
                case .positions: (hash, s.positions.toFetch(fields, named: named, &refresh.changed, gone: &ignored))
                }
            }
        }
        if let i = hashes.firstIndex(of: .plans) { refresh.planFields = names[i] }
        guard requests.contains(where: { !$0.fields.isEmpty }) else { return refresh }
        let fetched = try await book.fetch(requests)
        state.withLock { s in
            for (request, items) in zip(requests, fetched) {
                for (field, item) in zip(request.fields, items) {
                    switch (request.hash, item) {
                    case (.plans, let bytes?):
                        if let plan = s.plans.read(field, bytes, named: true, &refresh) { refresh.readPlans[plan.key] = plan }
                    case (.plans, nil): if let key = s.plans.drop(field, &refresh.changed) { refresh.plansGone.insert(key) }
                    case (.positions, let bytes?): s.positions.read(field, bytes, named: true, &refresh)
                    case (.positions, nil): s.positions.drop(field, &refresh.changed)
                    }
                }
            }
        }
        return refresh
    }
}
