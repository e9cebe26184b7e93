import ExitBrainCoordination
import ExitBrainService
import Foundation
import Logging

/// The monitor's watch on the execution instances' bucket leases (docs/contract.md §12): while
/// an execution instance is live, a bucket held by nobody for more than two lease times is a
/// critical `BUCKET_UNOWNED` alert (its positions are managed by no one), cleared with an info
/// `BUCKET_OWNED` when an instance takes it. With no execution instance live, `PEER_DOWN` says it.
struct BucketWatch: Sendable {
    let leases: BucketLeases
    let ttl: Duration
    let alerts: AlertSink
    let runtime: ServiceRuntime

    /// Checks every half lease time (at most every second) until cancelled.
    func run() async {
        let clock = ContinuousClock()
        var unheldSince: [Int: ContinuousClock.Instant] = [:]
        var raised: Set<Int> = []
        while !Task.isCancelled {
            try? await Task.sleep(for: min(ttl / 2, .seconds(1)))
            guard await runtime.peerStatus().status == .ok, let view = try? await leases.read() else {
                unheldSince = [:]
                continue
            }
            for bucket in leases.buckets.all {
                if view.holders[bucket] != nil {
                    unheldSince[bucket] = nil
                    if raised.remove(bucket) != nil {
                        alerts.clear(code: "BUCKET_UNOWNED", key: "bucket:\(bucket)")
                        await alerts.raise(
                            AlertEvent(
                                severity: .info, code: "BUCKET_OWNED", message: "bucket \(bucket) is held again, by \(view.holders[bucket] ?? "?")",
                                key: "bucket:\(bucket)"))
                    }
                    continue
                }
                let since = unheldSince[bucket] ?? clock.now
                unheldSince[bucket] = since
                guard clock.now - since > ttl * 2, raised.insert(bucket).inserted else { continue }
                alerts.clear(code: "BUCKET_OWNED", key: "bucket:\(bucket)")
                await alerts.raise(
                    AlertEvent(
                        severity: .critical, code: "BUCKET_UNOWNED",
                        message:
                            "bucket \(bucket) of \(leases.buckets.count) has been held by no execution instance for \(Int((clock.now - since).secondsValue)) s: its positions are not managed",
                        key: "bucket:\(bucket)"))
            }
        }
    }
}
