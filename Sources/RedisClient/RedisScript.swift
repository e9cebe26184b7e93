/// A Lua script run with EVALSHA; connections load it on first use.
public struct RedisScript: Sendable, Hashable {
    /// A short name for error messages.
    public let name: String
    /// The Lua source.
    public let source: String

    /// A script with a name for messages and its source.
    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }
}
