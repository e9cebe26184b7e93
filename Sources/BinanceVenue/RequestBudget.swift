import ExitBrainCoordination
import Foundation
import Venue

/// The venue's request budget as its answers report it: weight used this minute, a 429's
/// back-off, a 418's ban. Exits (reduce-only orders and cancels) keep priority: when the budget
/// is short, everything else waits and they still go; during a ban nothing goes.
struct RequestBudget: Sendable {
    /// Weight per minute (exchangeInfo's REQUEST_WEIGHT; 2400 on USD-M).
    var weightLimit = 2400
    /// `X-MBX-USED-WEIGHT-1M` of the last answer.
    var weightUsed = 0
    /// `X-MBX-ORDER-COUNT-10S` / `-1M` of the last order answer.
    var orderCount10s = 0
    var orderCount1m = 0
    /// No request but priority ones before this (after a 429).
    var backoffUntil: ContinuousClock.Instant?
    /// No request at all before this (a 418 ban).
    var bannedUntil: ContinuousClock.Instant?
    /// 429s in a row: the back-off doubles with each.
    var consecutiveTooMany = 0

    /// Throws when a request may not go now.
    func admit(priority: Bool, now: ContinuousClock.Instant) throws(VenueError) {
        if let until = bannedUntil, until > now {
            throw .banned(untilMilliseconds: Int64(Date().timeIntervalSince1970 * 1000 + (until - now).secondsValue * 1000))
        }
        guard !priority else { return }
        if let until = backoffUntil, until > now { throw .rateLimited(retryAfter: (until - now).secondsValue) }
        if weightUsed * 10 >= weightLimit * 9 { throw .rateLimited(retryAfter: nil) }
    }

    /// True while a back-off or ban holds.
    func limited(now: ContinuousClock.Instant) -> Bool {
        (backoffUntil.map { $0 > now } ?? false) || banned(now: now)
    }

    /// True while banned.
    func banned(now: ContinuousClock.Instant) -> Bool { bannedUntil.map { $0 > now } ?? false }

    /// A 429: back off for `Retry-After` or 1, 2, 4… s (at most 60).
    mutating func tooManyRequests(retryAfter: Double?, now: ContinuousClock.Instant) {
        consecutiveTooMany += 1
        let wait = retryAfter ?? min(60, pow(2, Double(consecutiveTooMany - 1)))
        backoffUntil = now + .milliseconds(Int64(wait * 1000))
    }

    /// A 418: banned for `Retry-After` (or until the time the message names), at least 5 s.
    mutating func ban(seconds: Double?, now: ContinuousClock.Instant) {
        bannedUntil = now + .milliseconds(Int64(max(seconds ?? 60, 1) * 1000))
    }

    /// An answer that was not a 429 or 418.
    mutating func answered(weight: Int?, orders10s: Int?, orders1m: Int?) {
        consecutiveTooMany = 0
        if let weight { weightUsed = weight }
        if let orders10s { orderCount10s = orders10s }
        if let orders1m { orderCount1m = orders1m }
    }
}
