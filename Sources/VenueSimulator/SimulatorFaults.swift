import Foundation

/// What `POST /_sim/faults` can break, each the way Binance has been seen to break.
struct SimulatorFaults: Sendable {
    /// One request to fail with Binance's code (and HTTP status), optionally only on one path.
    struct Failure: Sendable {
        var code: Int
        var status: Int
        var path: String?
        var message: String?
    }
    /// The server clock runs this far ahead of the host's (negative: behind).
    var clockOffsetMs: Int64 = 0
    /// The next N placements are carried out and never answered.
    var silentPlacements = 0
    /// Requests to fail, in order (placements unless a path is given).
    var failures: [Failure] = []
    /// Used weight per minute beyond which requests get HTTP 429; nil: Binance's 2400.
    var weightLimit: Int?
    /// 429s within a minute after which the IP is banned (HTTP 418).
    var bansAfter429s = 3
    /// How long a ban lasts.
    var banSeconds: Double = 5
    /// Banned until this server time (ms).
    var bannedUntilMs: Int64?
    /// Stops stay in TRIGGERING without a child (seen on the demo venue): they never fill.
    var stuckStops = false
}
