import ExitBrainDomain

/// Symbols into `EXECUTION_BUCKETS` buckets by FNV-1a (docs/contract.md §12): every process
/// that asks puts a symbol in the same bucket.
public struct BucketMap: Sendable, Equatable {
    /// How many buckets.
    public let count: Int

    /// A map of `count` buckets (at least one).
    public init(count: Int) { self.count = max(1, count) }

    /// The bucket of a symbol.
    public func bucket(of symbol: String) -> Int { Int(FNV1a.hash64(symbol) % UInt64(count)) }

    /// Every bucket number.
    public var all: Range<Int> { 0..<count }
}
