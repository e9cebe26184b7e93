import RedisClient

/// The Lua scripts that make every plan change one atomic step with its event.
enum PlanScripts {
    /// Writes (mode, field, record) triples from ARGV index `first` on into the orders hash
    /// KEYS[`key`]: `nx` only when the field is free (an intent), `set` always (an answer).
    private static func orders(from first: Int, key: Int) -> String {
        """

        for i = \(first), #ARGV, 3 do
          if ARGV[i] == 'nx' then redis.call('HSETNX', KEYS[\(key)], ARGV[i + 1], ARGV[i + 2])
          else redis.call('HSET', KEYS[\(key)], ARGV[i + 1], ARGV[i + 2]) end
        end

        """
    }

    /// A plan script in its two forms: as written, and fenced (an execution instance's write
    /// under a bucket lease, docs/contract.md §12), which takes the bucket's fence and lease
    /// keys after its own keys and the token and instance after its fixed arguments, and
    /// refuses everything with `FENCED` when they are not current.
    struct Pair: Sendable {
        /// Without a fence (the monitor; a single instance's tests).
        let plain: RedisScript
        /// With one.
        let fenced: RedisScript
        /// The number of its own keys.
        let keys: Int
        /// The number of its fixed arguments (the order triples follow them).
        let args: Int

        init(name: String, keys: Int, args: Int, body: (_ ordersFrom: Int) -> String) {
            self.keys = keys
            self.args = args
            plain = RedisScript(name: name, source: body(args + 1))
            fenced = RedisScript(name: name + "-fenced", source: LeaseScripts.check(key: keys + 1, arg: args + 1) + body(args + 3))
        }

        /// The script for this write, with `keys` and `args` extended by the fence when there is one.
        func call(
            keys: [String], args: [any RedisArgument], fence: LeaseTable.Fence?, namespace: Namespace
        ) -> (
            script: RedisScript, keys: [String], args: [any RedisArgument]
        ) {
            guard let fence else { return (plain, keys, args) }
            precondition(keys.count == self.keys && args.count >= self.args, "fenced call of \(plain.name) with the wrong arity")
            let fixed = Array(args.prefix(self.args))
            let rest = Array(args.dropFirst(self.args))
            return (
                fenced, keys + [namespace.fence(fence.bucket), namespace.lease(fence.bucket)],
                fixed + [Int(fence.token), fence.instance] as [any RedisArgument] + rest
            )
        }
    }

    /// KEYS: plans, orders. ARGV: field, plan JSON, channel, envelope before the plan, envelope
    /// after it, then (mode, client order id, order record) triples.
    /// Stores the plan only when the field is free, with its order intents, and then publishes;
    /// otherwise returns the stored plan and writes and publishes nothing. Reply: {1} when
    /// created (the caller has the plan), {0, stored plan} when one was there.
    static let getOrCreate = Pair(name: "plan-get-or-create", keys: 2, args: 5) { first in
        """
        if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
        """ + orders(from: first, key: 2) + """
              redis.call('PUBLISH', ARGV[3], ARGV[4] .. ARGV[2] .. ARGV[5])
              return {1}
            end
            return {0, redis.call('HGET', KEYS[1], ARGV[1])}
            """
    }

    /// Shared check: the stored plan has this plan id and version.
    private static let check = """
        local cur = redis.call('HGET', KEYS[1], ARGV[1])
        if not cur then return {-1} end
        local v = string.match(cur, '"version"%s*:%s*(%d+)')
        if v ~= ARGV[2] or not string.find(cur, ARGV[3], 1, true) then return {0, cur} end

        """

    /// KEYS: plans, positions, orders. ARGV: field, expected version, plan-id marker,
    /// new plan JSON, channel, envelope ('' for none), position JSON ('' to leave the position
    /// alone), then (mode, client order id, order record) triples.
    /// Reply: {1} on success, {0, stored plan} on a version or plan conflict, {-1} when absent.
    /// The order records are written only when the plan is: an order is never intended for a
    /// plan version that is not the stored one.
    static let compareAndSet = Pair(name: "plan-compare-and-set", keys: 3, args: 7) { first in
        check + orders(from: first, key: 3) + """
            redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
            if ARGV[7] ~= '' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[7]) end
            if ARGV[6] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
            return {1}
            """
    }

    /// KEYS: plans, history, positions, orders. ARGV: field, expected version, plan-id
    /// marker, final plan JSON, channel, envelope, position action ('delete', 'keep', or a
    /// snapshot JSON to store), history cap, then (mode, client order id, order record) triples.
    /// Moves the plan to history, removes it, writes the order records, publishes.
    static let close = Pair(name: "plan-close", keys: 4, args: 8) { first in
        check + orders(from: first, key: 4) + """
            redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[8], '*', 'plan', ARGV[4])
            redis.call('HDEL', KEYS[1], ARGV[1])
            if ARGV[7] == 'delete' then
              redis.call('HDEL', KEYS[3], ARGV[1])
            elseif ARGV[7] ~= 'keep' then
              redis.call('HSET', KEYS[3], ARGV[1], ARGV[7])
            end
            redis.call('PUBLISH', ARGV[5], ARGV[6])
            return {1}
            """
    }
}

/// The paper venue's ledger script.
enum PaperScripts {
    /// KEYS: paper orders, positions. ARGV: 'nx' (only when the order is new) or 'set', client
    /// order id, the venue's order JSON, position field ('' for none), position JSON or
    /// 'delete', then 'xx' (the position must exist), 'absent' (it must not) or '' (no check).
    /// Writes the order and the position in one step; reply 0 when 'nx' found the order there,
    /// -1 when the position is not as expected (nothing written in either case), 1 otherwise.
    static let commit = RedisScript(
        name: "paper-commit",
        source: """
            if ARGV[1] == 'nx' and redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then return 0 end
            if ARGV[6] ~= '' then
              local exists = redis.call('HEXISTS', KEYS[2], ARGV[4])
              if (ARGV[6] == 'xx' and exists == 0) or (ARGV[6] == 'absent' and exists == 1) then return -1 end
            end
            redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
            if ARGV[4] ~= '' then
              if ARGV[5] == 'delete' then redis.call('HDEL', KEYS[2], ARGV[4])
              else redis.call('HSET', KEYS[2], ARGV[4], ARGV[5]) end
            end
            return 1
            """)
}
