import RedisClient

/// The Lua scripts of bucket leases (docs/contract.md §12), and the fence check every plan
/// write and order intent of an execution instance starts with.
enum LeaseScripts {
    /// The check that the write's lease is current: KEYS[`key`] is the bucket's fence and
    /// KEYS[`key` + 1] its lease; ARGV[`arg`] the token and ARGV[`arg` + 1] the instance. A
    /// stale token, or a lease that expired or is another's, refuses the whole script with a
    /// `FENCED` error before it writes anything.
    static func check(key: Int, arg: Int) -> String {
        """
        local fence = redis.call('GET', KEYS[\(key)])
        if fence ~= ARGV[\(arg)] or redis.call('GET', KEYS[\(key + 1)]) ~= ARGV[\(arg + 1)] then
          return redis.error_reply('FENCED ' .. KEYS[\(key)] .. ' is at ' .. tostring(fence) .. ', not ' .. ARGV[\(arg)])
        end

        """
    }

    /// KEYS: lease, fence. ARGV: instance, lease time in ms. Takes the lease when it is free
    /// and increments the fencing token; reply: the new token, or 0 when the lease is held.
    static let acquire = RedisScript(
        name: "lease-acquire",
        source: """
            if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
              return redis.call('INCR', KEYS[2])
            end
            return 0
            """)

    /// KEYS: lease, fence. ARGV: instance, token, lease time in ms. Extends the lease when it
    /// is still this instance's under this token; reply 1, or 0 when it is lost.
    static let renew = RedisScript(
        name: "lease-renew",
        source: """
            if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[2] then
              redis.call('PEXPIRE', KEYS[1], ARGV[3])
              return 1
            end
            return 0
            """)

    /// KEYS: lease. ARGV: instance. Frees the lease when it is this instance's.
    static let release = RedisScript(
        name: "lease-release",
        source: """
            if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
            return 0
            """)

    /// KEYS: orders, fence, lease. ARGV: client order id, record JSON, token, instance.
    /// An order intent alone (`HSETNX`) under the fence; reply 1 when written, 0 when a record
    /// with this id was there.
    static let intent = RedisScript(
        name: "fenced-intent",
        source: check(key: 2, arg: 3) + """
            return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
            """)
}
