#!/usr/bin/env python3
"""The reference executor for the benchmarks: the seed's path in Python with redis-py.

For each trade.signal on {ns}:events:trade.signal it builds a plan (a stop 2 % away and three
take-profits), stores it with HSETNX under SYMBOL:SIDE in {ns}:exit:plans and publishes
exit_plan.created, the two commands pipelined in one round trip. Nothing else: no venue, no
orders, no validation beyond JSON. `exitbrain-bench service` runs it beside the execution
service and prints ExitBrain's ratio to it.

    executor.py REDIS_URL NAMESPACE
"""
import json
import sys
import time
import uuid

import redis


def plan_for(signal, now):
    side = "LONG" if signal["side"] == "BUY" else "SHORT"
    entry = float(signal.get("price") or 0.0)
    sign = 1.0 if side == "LONG" else -1.0
    legs = [{"index": 0, "kind": "SL", "trigger_price": round(entry * (1 - sign * 0.02), 8), "size_pct": 100, "status": "PENDING"}]
    for i, pct in enumerate((0.01, 0.02, 0.03)):
        legs.append({"index": i + 1, "kind": "TP", "trigger_price": round(entry * (1 + sign * pct), 8), "size_pct": 30 if i < 2 else 40, "status": "PENDING"})
    return {
        "plan_id": str(uuid.uuid4()), "symbol": signal["symbol"], "side": side, "entry_price": entry,
        "initial_quantity": signal["quantity"], "remaining_quantity": signal["quantity"], "legs": legs,
        "status": "ACTIVE", "version": 1, "created_at": now, "updated_at": now,
    }


def main():
    url, ns = sys.argv[1], sys.argv[2]
    r = redis.Redis.from_url(url)
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(f"{ns}:events:trade.signal")
    print("ready", flush=True)
    plans, created = f"{ns}:exit:plans", f"{ns}:events:exit_plan.created"
    for message in pubsub.listen():
        try:
            envelope = json.loads(message["data"])
            signal = envelope["data"]
        except (ValueError, KeyError, TypeError):
            continue
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        plan = plan_for(signal, now)
        text = json.dumps(plan, separators=(",", ":"))
        event = json.dumps({"id": str(uuid.uuid4()), "type": "exit_plan.created", "source": "reference", "ts": now,
                            "data": {"plan": plan, "retroactive": False}}, separators=(",", ":"))
        pipe = r.pipeline(transaction=False)
        pipe.hsetnx(plans, f"{plan['symbol']}:{plan['side']}", text)
        pipe.publish(created, event)
        pipe.execute()


if __name__ == "__main__":
    main()
