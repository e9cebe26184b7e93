#!/usr/bin/env bash
# Sets up what is missing, starts a throwaway redis-server on a free loopback port without
# persistence, runs every test against it, and stops that server whatever the outcome.
# Extra arguments go to `swift test` (e.g. --filter RedisClientTests).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

# House style (.swift-format): any finding fails the run before anything is built.
swift format lint --strict --recursive Sources Tests Package.swift

workdir=$(mktemp -d -t exitbrain-test-XXXXXX)
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    while :; do p=$((20000 + RANDOM % 40000)); (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done
  fi
}
port=$(free_port)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$workdir" \
  --daemonize no --logfile "$workdir/redis.log" --enable-debug-command yes &
redis_pid=$!
cleanup() {
  kill "$redis_pid" 2>/dev/null || true
  wait "$redis_pid" 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

for _ in $(seq 1 200); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
redis-cli -p "$port" ping >/dev/null || { echo "test: redis-server did not start on port $port" >&2; exit 1; }
echo "test: redis-server pid $redis_pid on 127.0.0.1:$port"

export EXITBRAIN_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
swift build --build-tests
if [ "$#" -gt 0 ]; then
  swift test --skip-build "$@"
else
  # Independent unit and service tests run side by side. The few that time how fast something
  # happens (a peer's alert within 3 beats, DOWN within 3 s, passes during webhook backoff, a
  # command timeout surfacing within its limit, every open position with a resting stop within
  # one interval over a 60 s random walk) and
  # the tests that run whole processes (faults, hostile input, soak, compose, demo) run one at a
  # time after them: on 2 cores, work side by side starves honest timing checks.
  # The Sentinel tests and the replica-acknowledgement one run whole Redis clusters and time
  # replication: they run one at a time too.
  timed='PeerWatchTests|HealthHTTPTests|WebhookTests|RedisConnectionTests|ProtectionSoakTests|SentinelTests|aPlanNoReplicaAcknowledges'
  swift test --skip-build --skip "SystemTests|DeployTests|$timed"
  swift test --skip-build --no-parallel --filter "$timed"
  swift test --skip-build --no-parallel --filter 'SystemTests|DeployTests'
fi
