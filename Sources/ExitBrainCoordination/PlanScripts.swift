import RedisClient

/// The Lua scripts that make every plan change one atomic step with its event.
enum PlanScripts {
    /// KEYS: plans. ARGV: field, plan JSON, channel, envelope before the plan, envelope after it.
    /// Stores the plan only when the field is free and then publishes; otherwise returns the
    /// stored plan and publishes nothing. Reply: {1} when created (the caller has the plan),
    /// {0, stored plan} when one was there.
    static let getOrCreate = RedisScript(
        name: "plan-get-or-create",
        source: """
            if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
              redis.call('PUBLISH', ARGV[3], ARGV[4] .. ARGV[2] .. ARGV[5])
              return {1}
            end
            return {0, redis.call('HGET', KEYS[1], ARGV[1])}
            """)

    /// Shared check: the stored plan has this plan id and version.
    private static let check = """
        local cur = redis.call('HGET', KEYS[1], ARGV[1])
        if not cur then return {-1} end
        local v = string.match(cur, '"version"%s*:%s*(%d+)')
        if v ~= ARGV[2] or not string.find(cur, ARGV[3], 1, true) then return {0, cur} end

        """

    /// KEYS: plans, positions, paper orders. ARGV: field, expected version, plan-id marker,
    /// new plan JSON, channel, envelope ('' for none), position JSON ('' to leave the position
    /// alone), then any number of (client order id, order record) pairs for the paper venue.
    /// Reply: {1} on success, {0, stored plan} on a version or plan conflict, {-1} when absent.
    /// The orders are recorded only when the plan is written: an exit is never placed for a
    /// plan version that is not the stored one.
    static let compareAndSet = RedisScript(
        name: "plan-compare-and-set",
        source: check + """
            for i = 8, #ARGV, 2 do redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1]) end
            redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
            if ARGV[7] ~= '' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[7]) end
            if ARGV[6] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
            return {1}
            """)

    /// KEYS: plans, history, positions, paper orders. ARGV: field, expected version, plan-id
    /// marker, final plan JSON, channel, envelope, position action ('delete', 'keep', or a
    /// snapshot JSON to store), history cap, then (client order id, order record) pairs.
    /// Moves the plan to history, removes it, records the orders, publishes.
    static let close = RedisScript(
        name: "plan-close",
        source: check + """
            for i = 9, #ARGV, 2 do redis.call('HSETNX', KEYS[4], ARGV[i], ARGV[i + 1]) end
            redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[8], '*', 'plan', ARGV[4])
            redis.call('HDEL', KEYS[1], ARGV[1])
            if ARGV[7] == 'delete' then
              redis.call('HDEL', KEYS[3], ARGV[1])
            elseif ARGV[7] ~= 'keep' then
              redis.call('HSET', KEYS[3], ARGV[1], ARGV[7])
            end
            redis.call('PUBLISH', ARGV[5], ARGV[6])
            return {1}
            """)
}
