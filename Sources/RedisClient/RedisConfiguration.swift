import Foundation

/// Where and how to connect: parsed from a `redis://[user:password@]host:port/db` URL.
public struct RedisConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// Host name or address.
    public var host: String
    /// TCP port.
    public var port: Int
    /// ACL user name, if any (Redis 6+: `AUTH user password`).
    public var username: String?
    /// Password, if any. Never printed.
    public var password: String?
    /// Database index selected after connecting.
    public var database: Int
    /// How long a connect attempt may take, in milliseconds.
    public var connectTimeoutMilliseconds: Int
    /// How long one command (or pipeline) may wait for its replies, in milliseconds.
    public var commandTimeoutMilliseconds: Int
    /// First wait before reconnecting after a failure, in milliseconds.
    public var reconnectInitialMilliseconds: Int
    /// Longest wait between reconnect attempts, in milliseconds.
    public var reconnectMaxMilliseconds: Int
    /// Sentinels to ask for the primary (`REDIS_SENTINELS`); empty: connect to `host:port`.
    public var sentinels: [SentinelAddress] = []
    /// The primary's name at the sentinels (`REDIS_SENTINEL_MASTER`).
    public var sentinelMaster = "exitbrain"
    /// The sentinels' own password, if they have one. Never printed.
    public var sentinelPassword: String?
    /// How long a write that must survive a failover waits for one replica's acknowledgement
    /// (`WAIT 1 <ms>`), when the primary has replicas.
    public var replicaWaitMilliseconds = 100

    /// The default URL of the contract.
    public static let defaultURL = "redis://127.0.0.1:6379/0"

    /// A configuration with explicit fields.
    public init(
        host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
        database: Int = 0, connectTimeoutMilliseconds: Int = 1000, commandTimeoutMilliseconds: Int = 2000,
        reconnectInitialMilliseconds: Int = 100, reconnectMaxMilliseconds: Int = 5000
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.commandTimeoutMilliseconds = commandTimeoutMilliseconds
        self.reconnectInitialMilliseconds = reconnectInitialMilliseconds
        self.reconnectMaxMilliseconds = reconnectMaxMilliseconds
    }

    /// Parses `redis://[user:password@]host[:port][/db]`; user and password may be percent-encoded.
    public init(url: String) throws(RedisError) {
        self.init()
        let prefix = "redis://"
        guard url.hasPrefix(prefix) else {
            throw RedisError(.invalidURL, "redis url must start with redis:// (got \(RedisConfiguration.mask(url)))")
        }
        var rest = Substring(url.dropFirst(prefix.count))
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let user = String(userinfo[..<colon])
                username = user.isEmpty ? nil : try Self.percentDecode(user)
                password = try Self.percentDecode(String(userinfo[userinfo.index(after: colon)...]))
            } else if !userinfo.isEmpty {
                // `redis://secret@host` is the password-only form.
                password = try Self.percentDecode(String(userinfo))
            }
        }
        var hostPort = rest
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0, n < 16384 else {
                    throw RedisError(.invalidURL, "database in redis url must be a number 0-16383 (got \(db))")
                }
                database = n
            }
        }
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { port = try Self.parsePort(after.dropFirst()) }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            port = try Self.parsePort(hostPort[hostPort.index(after: colon)...])
        } else {
            host = String(hostPort)
        }
        guard !host.isEmpty else { throw RedisError(.invalidURL, "redis url has no host (got \(RedisConfiguration.mask(url)))") }
    }

    private static func parsePort(_ s: Substring) throws(RedisError) -> Int {
        guard let p = Int(s), (1...65535).contains(p) else {
            throw RedisError(.invalidURL, "port in redis url must be 1-65535 (got \(s))")
        }
        return p
    }

    private static func percentDecode(_ s: String) throws(RedisError) -> String {
        guard s.contains("%") else { return s }
        var out: [UInt8] = []
        var bytes = s.utf8.makeIterator()
        while let b = bytes.next() {
            if b == UInt8(ascii: "%") {
                guard let h = bytes.next(), let l = bytes.next(), let v = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16) else {
                    throw RedisError(.invalidURL, "bad percent-encoding in redis url credentials")
                }
                out.append(v)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The URL with the password replaced by `****`: safe for logs and health answers. With
    /// sentinels, the primary's name and the sentinels stand for the address.
    public var description: String {
        var auth = ""
        if username != nil || password != nil {
            auth = (username ?? "") + (password != nil ? ":****" : "") + "@"
        }
        guard sentinels.isEmpty else {
            return "redis://\(auth)\(sentinelMaster)/\(database) via sentinels \(sentinels.map(\.description).joined(separator: ","))"
        }
        let h = host.contains(":") ? "[\(host)]" : host
        return "redis://\(auth)\(h):\(port)/\(database)"
    }

    /// This configuration aimed at another server (the primary a sentinel named).
    func at(host: String, port: Int) -> RedisConfiguration {
        var other = self
        other.host = host
        other.port = port
        other.sentinels = []
        return other
    }

    /// The configuration to talk to one of the sentinels: its address, the sentinels' password
    /// (not the data nodes'), no database, and short timeouts (500 ms to connect, at most 1 s
    /// per command) so that a dead sentinel does not hold up asking the next.
    func sentinel(_ address: SentinelAddress) -> RedisConfiguration {
        var other = RedisConfiguration(
            host: address.host, port: address.port, password: sentinelPassword,
            connectTimeoutMilliseconds: min(connectTimeoutMilliseconds, 500), commandTimeoutMilliseconds: min(commandTimeoutMilliseconds, 1000),
            reconnectInitialMilliseconds: reconnectInitialMilliseconds, reconnectMaxMilliseconds: reconnectMaxMilliseconds)
        other.sentinels = []
        return other
    }

    /// `host:port`, for messages.
    public var address: String { "\(host):\(port)" }

    /// Masks whatever stands between `//` and `@` in a URL-ish string that failed to parse.
    public static func mask(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url.range(of: "@", options: .backwards),
            scheme.upperBound <= at.lowerBound
        else { return url }
        return url[..<scheme.upperBound] + "****" + url[at.lowerBound...]
    }
}

/// One sentinel's address.
public struct SentinelAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port,host:port,…` (`REDIS_SENTINELS`).
    public static func parseList(_ text: String) throws(RedisError) -> [SentinelAddress] {
        var out: [SentinelAddress] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            guard let colon = item.lastIndex(of: ":"), let port = Int(item[item.index(after: colon)...]), (1...65535).contains(port),
                colon > item.startIndex
            else { throw RedisError(.invalidURL, "a sentinel must be host:port (got \(item))") }
            out.append(SentinelAddress(host: String(item[..<colon]), port: port))
        }
        guard !out.isEmpty else { throw RedisError(.invalidURL, "no sentinel in \(text)") }
        return out
    }

    public var description: String { "\(host):\(port)" }
}
