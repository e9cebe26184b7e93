import Foundation
import Venue

/// What the paper venue can be told to do wrong, for tests and drills (`PAPER_FAULTS`): the
/// faults a real venue has, on demand.
public struct PaperFaults: Sendable, Equatable {
    /// Accept (and keep) this many orders, then answer nothing for them, neither to the request
    /// nor on the event stream: the caller sees an unknown outcome, the order exists.
    public var silentAccepts = 0
    /// A refusal to come: of the next order of `type` (of any type when nil).
    public struct Refusal: Sendable, Equatable {
        /// The order type it applies to; nil for any.
        public var type: OrderType?
        /// What the venue answers.
        public var error: VenueError

        /// A refusal.
        public init(_ error: VenueError, of type: OrderType? = nil) {
            self.type = type
            self.error = error
        }
    }

    /// Refuse the next orders with these errors, one each, in order (an item applies to the
    /// first order of its type).
    public var refusals: [Refusal] = []
    /// Hold every event this long before delivering it.
    public var eventDelay: Duration = .zero
    /// Die (SIGKILL) when an order of this type is asked for, before the venue records it:
    /// the caller crashed between its intent and the request.
    public var crashOnPlace: OrderType?
    /// Die (SIGKILL) right after recording an order of this type, before answering.
    public var crashAfterAccept: OrderType?
    /// This many triggered orders fill in two parts: half (on the step) when first crossed,
    /// the rest on the next price that crosses them.
    public var partialFills = 0
    /// Resting stops do not fill when crossed (a stop stuck in TRIGGERING, as seen on Binance's
    /// demo venue): the service's supervisor must exit at market.
    public var stuckStops = false

    /// No faults.
    public init() {}

    /// Reads `silent:N,refuse:CODE[:TYPE],delay-ms:N,crash-on-place:TYPE,crash-after-accept:TYPE,partial:N,stuck-stops:true`
    /// (any subset, comma-separated). `refuse` takes -2021 (would trigger), -2022 (reduce-only
    /// refused), -1003 (rate limited) or any other code (refused).
    public init(parsing text: String) throws(PaperFaultError) {
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw PaperFaultError(item: item) }
            switch parts[0] {
            case "silent":
                guard let n = Int(parts[1]), n >= 0 else { throw PaperFaultError(item: item) }
                silentAccepts = n
            case "refuse":
                // refuse:CODE or refuse:CODE:TYPE
                let spec = parts[1].split(separator: ":").map(String.init)
                guard let code = Int(spec[0]), spec.count <= 2 else { throw PaperFaultError(item: item) }
                var type: OrderType?
                if spec.count == 2 {
                    guard let t = OrderType(rawValue: spec[1]) else { throw PaperFaultError(item: item) }
                    type = t
                }
                refusals.append(Refusal(Self.error(code: code), of: type))
            case "delay-ms":
                guard let ms = Int(parts[1]), ms >= 0 else { throw PaperFaultError(item: item) }
                eventDelay = .milliseconds(ms)
            case "crash-on-place":
                guard let type = OrderType(rawValue: parts[1]) else { throw PaperFaultError(item: item) }
                crashOnPlace = type
            case "crash-after-accept":
                guard let type = OrderType(rawValue: parts[1]) else { throw PaperFaultError(item: item) }
                crashAfterAccept = type
            case "partial":
                guard let n = Int(parts[1]), n >= 0 else { throw PaperFaultError(item: item) }
                partialFills = n
            case "stuck-stops":
                guard let flag = Bool(parts[1]) else { throw PaperFaultError(item: item) }
                stuckStops = flag
            default: throw PaperFaultError(item: item)
            }
        }
    }

    /// The error a venue answers with `code`.
    public static func error(code: Int) -> VenueError {
        switch code {
        case -2021: .wouldTriggerImmediately(message: "Order would immediately trigger.")
        case -2022: .reduceOnlyRefused(code: -2022, message: "ReduceOnly Order is rejected.")
        case -1003: .rateLimited(retryAfter: 1)
        default: .refused(code: code, message: "Refused by the paper venue's fault injection.")
        }
    }
}

/// A `PAPER_FAULTS` item that is not understood.
public struct PaperFaultError: Error, Sendable, CustomStringConvertible {
    /// The item.
    public let item: String
    /// One line.
    public var description: String {
        "PAPER_FAULTS item \"\(item)\" is not one of silent:N, refuse:CODE[:TYPE], delay-ms:N, crash-on-place:TYPE, crash-after-accept:TYPE, partial:N, stuck-stops:true|false"
    }
}
