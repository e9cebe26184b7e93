#!/usr/bin/env python3
"""ccxt's binanceusdm against `exitbrain venue-sim`: the simulator must speak Binance's protocol,
not a private dialect, so a third-party client works against it unchanged (only its URLs point
at the simulator).

    python3 Tests/ccxt/drive_simulator.py PORT API_KEY API_SECRET hedge|oneway

Prints one line per step; exits 0 when every step did what Binance would do, 1 otherwise.
"""
import json
import sys

import ccxt

port, key, secret, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
hedge = mode == "hedge"
base = "http://127.0.0.1:%d" % port

ex = ccxt.binanceusdm({
    "apiKey": key,
    "secret": secret,
    "enableRateLimit": False,
    # Without this, load_markets asks the spot API for currencies when a key is set.
    "options": {"fetchCurrencies": False},
})
for name, url in list(ex.urls["api"].items()):
    if name.startswith("fapi"):
        ex.urls["api"][name] = base + url.split("binance.com", 1)[1]
    else:
        # Anything but USD-M futures would be a request the simulator is not meant for.
        ex.urls["api"][name] = base + "/not-usdm/" + name

SYMBOL = "BTC/USDT:USDT"
failures = []


def check(step, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + step + (": " + str(detail) if detail and not condition else ""))
    if not condition:
        failures.append(step)


def side_params(position_side, reduce=False):
    if hedge:
        return {"positionSide": position_side}
    return {"reduceOnly": True} if reduce else {}


markets = ex.load_markets()
check("load_markets lists BTC/USDT:USDT as a linear swap", SYMBOL in markets and markets[SYMBOL]["linear"], list(markets)[:5])
check("fetch_time", abs(ex.fetch_time() - ex.milliseconds()) < 5000)

order = ex.create_order(SYMBOL, "market", "buy", 0.01, None, side_params("LONG"))
check("a market order fills", order["status"] == "closed" and float(order["filled"]) == 0.01, order)

positions = [p for p in ex.fetch_positions([SYMBOL]) if float(p["contracts"] or 0) > 0]
check("fetch_positions shows the long", len(positions) == 1 and positions[0]["side"] == "long" and float(positions[0]["contracts"]) == 0.01, positions)

stop = ex.create_order(SYMBOL, "STOP_MARKET", "sell", 0.01, None, dict(side_params("LONG", reduce=True), triggerPrice=48000))
check("a conditional stop through the algo endpoints", stop["id"] is not None, stop)
check("the stop went to /fapi/v1/algoOrder", "algoOrder" in (ex.last_request_url or ""), ex.last_request_url)

trigger_open = ex.fetch_open_orders(SYMBOL, None, None, {"trigger": True})
check("open conditional orders list the stop", [o["id"] for o in trigger_open] == [stop["id"]], trigger_open)
check("open regular orders: none (market orders do not rest)", ex.fetch_open_orders(SYMBOL) == [])

ex.cancel_order(stop["id"], SYMBOL, {"trigger": True})
check("the stop cancelled", ex.fetch_open_orders(SYMBOL, None, None, {"trigger": True}) == [])

try:
    ex.create_order(SYMBOL, "STOP_MARKET", "sell", 0.01, None, dict(side_params("LONG", reduce=True), triggerPrice=51000))
    check("a stop already crossed is refused", False, "accepted")
except ccxt.ExchangeError:
    # ccxt picks its error classes by the production URL; the code is what counts.
    check("a stop already crossed is refused with -2021", json.loads(ex.last_http_response)["code"] == -2021, ex.last_http_response)

listen = ex.fapiPrivatePostListenKey()
check("a listenKey", isinstance(listen.get("listenKey"), str) and len(listen["listenKey"]) > 20, listen)
ex.fapiPrivatePutListenKey({"listenKey": listen["listenKey"]})
check("the listenKey extended", True)

balance = ex.fetch_balance()
check("fetch_balance reads the USDT wallet", float(balance["USDT"]["total"]) > 0, balance.get("USDT"))

print("ccxt %s against the simulator (%s): %s" % (ccxt.__version__, mode, "all steps ok" if not failures else "FAILED: " + ", ".join(failures)))
sys.exit(1 if failures else 0)
