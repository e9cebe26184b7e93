import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import Venue

/// Reconciliation with the venue at start and after any gap in its events (docs/contract.md
/// §11): positions, open orders and open conditional orders are matched to plans by client
/// order id; `INTENT` and `UNKNOWN` records are resolved; what a plan needs and is missing is
/// placed; the service's own orders that belong to no open position are cancelled. Nothing is
/// sent twice for one leg and plan version: an intent is queried before it is sent.
extension ExecutionEngine {
    /// What one reconciliation found and did.
    public struct ReconcileReport: Sendable, Equatable {
        /// Positions at the venue.
        public var positions = 0
        /// Records read from `{ns}:orders`.
        public var records = 0
        /// Final records older than `ORDER_RECORD_RETENTION_H`, removed.
        public var recordsRemoved = 0
        /// Records whose fate was asked of the venue.
        public var queried = 0
        /// Orders cancelled as belonging to no open position or plan (a gone position's among them).
        public var orphansCancelled = 0
        /// Plans closed because their position is gone.
        public var plansClosed = 0
    }

    /// Reads the venue and the book and brings them together. `adopting` names buckets just
    /// taken: they are acted on once their records and plans are read.
    @discardableResult
    public func reconcile(adopting: Set<Int> = []) async throws -> ReconcileReport {
        var report = ReconcileReport()
        let rows = try await book.orderRecords()
        report.records = rows.count
        let cutoff = now().addingTimeInterval(-config.orderRetention)
        var expired: [String] = []
        for row in rows {
            do {
                let stored = try OrderWrite.decode(row.bytes, field: row.field)
                // Done long ago: nothing will ask for it again.
                if stored.status.isFinal, stored.updatedAt < cutoff {
                    expired.append(row.field)
                    continue
                }
                // Another instance's bucket: its records are that instance's to work.
                guard holds(stored.key.symbol) else { continue }
                // A record written by another writer since (or our newer copy) wins by its time.
                if let mine = records[row.field], mine.updatedAt > stored.updatedAt { continue }
                know(stored)
            } catch {
                logger.error("order record not readable; left as it is", metadata: ["client_order_id": "\(row.field)", "error": "\(error)"])
            }
        }
        if !expired.isEmpty {
            try await book.removeOrderRecords(expired)
            report.recordsRemoved = expired.count
        }
        try await resync(keepingOrders: false)
        loading.subtract(adopting)
        let positions: [VenuePosition]
        let open: [OpenOrder]
        do {
            positions = try await venue.positions().filter { holds($0.key.symbol) }
            open = try await venue.openOrders().filter { holds($0.symbol) }
        } catch {
            throw CoordinationError(.redis, "venue not readable: \(error)")
        }
        report.positions = positions.count
        try await mirrorAll(positions)
        let openIds = Set(open.map(\.clientOrderId))
        let held = Set(positions.map(\.key))
        // Records that may be working but are not among the venue's open orders: ask.
        for id in Array(working.values.joined()) {
            guard let record = records[id], !openIds.contains(id) else { continue }
            report.queried += 1
            await resolveByQuery(record)
        }
        // Active plans of gone positions close first, and their orders are cancelled with them:
        // whoever reads the book never finds a plan still active once its orders are gone.
        for key in planCache.keys.filter({ !held.contains($0) && (restsAtVenue($0.symbol) || config.exchange != .paper) }) {
            report.plansClosed += 1
            let wereWorking = (working[key] ?? []).filter { records[$0]?.status.mayBeWorking == true }
            await positionMayBeGone(key)
            report.orphansCancelled += wereWorking.count { records[$0]?.status.mayBeWorking != true }
        }
        // Open orders of ours that no open position or active plan wants.
        for order in open {
            let id = order.clientOrderId
            guard let record = records[id] else {
                if id.hasPrefix("eb-") {
                    report.orphansCancelled += 1
                    logger.warning("open order of ours without a record; cancelling", metadata: ["client_order_id": "\(id)"])
                    try? await venue.cancel(clientOrderId: id, symbol: order.symbol, conditional: order.conditional)
                }
                continue
            }
            // Open at the venue while the record says INTENT or UNKNOWN (a crash before the
            // answer): adopt it first, so a cancel goes to the venue.
            if record.status == .intent || record.status == .unknown {
                report.queried += 1
                await resolveByQuery(record)
            }
            // Cancelled with its plan above, or ended as the query found: nothing to do.
            guard let current = records[id], current.status.mayBeWorking else { continue }
            let plan = planCache[current.key]
            if !held.contains(current.key) || plan == nil || plan?.planId != current.planId {
                report.orphansCancelled += 1
                await cancelOrder(current, reason: "ORPHANED")
            }
        }
        // Active plans of held positions: each gets what it needs.
        for key in planCache.keys.filter(held.contains) {
            if let plan = planCache[key] { await keepOrders(plan) }
        }
        await pruneRecords()
        logger.info(
            "reconciled with the venue",
            metadata: [
                "positions": "\(report.positions)", "records": "\(report.records)", "records_removed": "\(report.recordsRemoved)",
                "queried": "\(report.queried)",
                "orphans_cancelled": "\(report.orphansCancelled)", "plans_closed": "\(report.plansClosed)",
            ])
        return report
    }

    /// The venue's positions into `{ns}:positions` (a venue that owns its book): held ones
    /// written, others removed (those of this instance's buckets: `positions` holds only them).
    private func mirrorAll(_ positions: [VenuePosition]) async throws(CoordinationError) {
        guard config.venueOwnsBook else { return }
        let at = now()
        let held = Set(positions.map(\.key))
        for position in positions { try await book.putPosition(snapshot(of: position, at: at)) }
        for field in try await book.fieldNames([.positions])[0] {
            guard let key = PositionKey(field), !held.contains(key), holds(key.symbol) else { continue }
            try await book.removePosition(key)
        }
    }

    /// The lease loop's news: buckets lost are forgotten at once (their plans, records and
    /// queued work: nothing more is sent for them); buckets acquired are read in full and
    /// reconciled with the venue, as at a start.
    public func leasesChanged(acquired: Set<Int>, lost: Set<Int>) async throws {
        if let leases, !lost.isEmpty {
            let gone = { (symbol: String) in lost.contains(leases.buckets.bucket(of: symbol)) }
            for key in planCache.keys.filter({ gone($0.symbol) }) { forget(key) }
            for id in records.compactMap({ gone($1.key.symbol) ? $0 : nil }) {
                forgetRecord(id)
                unknown[id] = nil
                retryAt[id] = nil
            }
            working = working.filter { !gone($0.key.symbol) }
            stopCrossedSince = stopCrossedSince.filter { !gone($0.key.symbol) }
            announcedPositions = announcedPositions.filter { !gone($0.key.symbol) }
            loading.subtract(lost)
            unknownGauge.record(Double(unknown.count))
            logger.warning("bucket leases lost; their positions are left to the instance that holds them", metadata: ["buckets": "\(lost.sorted())"])
        }
        guard !acquired.isEmpty else { return }
        logger.info("bucket leases acquired; reconciling their positions", metadata: ["buckets": "\(acquired.sorted())"])
        readEverythingNext()
        loading.formUnion(acquired)
        try await reconcile(adopting: acquired)
        await handlePendingSignals()
    }

}
