#!/usr/bin/env bash
# Every performance figure of the project, each beside its in-run baseline: builds the release
# binaries and runs the domain benchmark (pure CPU, against its targets) and exitbrain-bench
# (Redis client against redis-benchmark; store, reconcile, the order lifecycle at the paper venue
# and the execution service against a
# PING timed the same way in the same run). Starts its own redis-server unless REDIS_URL is set.
#   bash scripts/bench.sh            # everything, about 5 minutes after the build
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product exitbrain
swift build -c release --product exitbrain-bench
swift build -c release --product exitbrain-domain-bench

echo "== machine"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cpu:     $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "os:      $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
echo "redis:   $(redis-server --version | sed 's/ sha=.*//')"
echo "hiredis: $(pkg-config --modversion hiredis)"
echo "swift:   $(swift --version 2>/dev/null | head -1)"
echo
echo "== domain (exitbrain-domain-bench)"
.build/release/exitbrain-domain-bench
echo
echo "== redis client, plan store, reconcile, execution service (exitbrain-bench)"
.build/release/exitbrain-bench redis store reconcile venue binance decision service
