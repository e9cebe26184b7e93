/// The two hashes of the book that services mirror.
public enum BookHash: Sendable, Hashable {
    /// `{ns}:exit:plans`.
    case plans
    /// `{ns}:positions`.
    case positions
}

/// The reads a ``BookMirror`` is made of. A service may give its mirror a book of its own
/// connection (``RedisBook``), so that a full read never queues the writes behind it.
public protocol BookReading: Sendable {
    /// Every field and its bytes of each hash. The Redis book reads in slices (`HSCAN`), so that
    /// no single reply holds Redis for the whole book: the result is not one instant's
    /// snapshot, and a record written while the read is under way may or may not be in it.
    func readAll(_ hashes: [BookHash]) async throws(CoordinationError) -> [[(field: String, bytes: [UInt8])]]
    /// The field names of each hash, in one round trip.
    func fieldNames(_ hashes: [BookHash]) async throws(CoordinationError) -> [[String]]
    /// The bytes of the named fields of each hash (nil where absent), in one round trip.
    func fetch(_ requests: [(hash: BookHash, fields: [String])]) async throws(CoordinationError) -> [[[UInt8]?]]
}
