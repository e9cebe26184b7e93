/// A value that can stand as one argument of a Redis command.
public protocol RedisArgument: Sendable {
    /// The bytes sent for this argument.
    var redisBytes: [UInt8] { get }
}

extension String: RedisArgument {
    /// The UTF-8 bytes of the string.
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    /// The bytes themselves: binary-safe.
    public var redisBytes: [UInt8] { self }
}

extension Int: RedisArgument {
    /// The decimal form.
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Double: RedisArgument {
    /// The shortest decimal form that reads back as the same value.
    public var redisBytes: [UInt8] { Array("\(self)".utf8) }
}

/// One command: its name and arguments, each sent as a binary-safe bulk string.
public struct RedisCommand: Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The command name followed by its arguments.
    public var arguments: [[UInt8]]

    /// A command from its name and arguments: `RedisCommand("SET", "k", "v")`.
    public init(_ name: String, _ args: any RedisArgument...) {
        arguments = [Array(name.utf8)] + args.map(\.redisBytes)
    }

    /// A command from a list of arguments, name first.
    public init(_ args: [any RedisArgument]) {
        arguments = args.map(\.redisBytes)
    }

    /// A command from string literals: `["HGET", "h", "f"]`.
    public init(arrayLiteral elements: String...) {
        arguments = elements.map { Array($0.utf8) }
    }

    /// The command name, upper-cased.
    public var name: String { arguments.first.map { String(decoding: $0, as: UTF8.self).uppercased() } ?? "" }

    /// The command name only: arguments may hold secrets and are never printed.
    public var description: String { name }
}
